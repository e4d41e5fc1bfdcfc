"""sessions: one per sign-in. _id (a random id that its JWTs carry),
user_id, refresh (the refresh token's jti good now), previous (the one it
replaced) and rotated_at (when), expires_at (15 days after its last
refresh), ended_at (None while it lives).

Kept here, not only in Redis, so that a Redis that loses its data signs
nobody out and brings no ended session back."""

from app.connections import db


def create(session_id, user_id, jti, now, expires_at):
    db().sessions.insert_one(
        {
            "_id": session_id,
            "user_id": user_id,
            "refresh": jti,
            "previous": None,
            "rotated_at": now,
            "created_at": now,
            "expires_at": expires_at,
            "ended_at": None,
        }
    )


def get(session_id):
    return db().sessions.find_one({"_id": session_id})


def rotate(session_id, old_jti, new_jti, now, expires_at):
    """Make `new_jti` the session's refresh token if `old_jti` is it now; False if not."""
    changed = db().sessions.update_one(
        {"_id": session_id, "refresh": old_jti, "ended_at": None},
        {"$set": {"refresh": new_jti, "previous": old_jti, "rotated_at": now, "expires_at": expires_at}},
    )
    return changed.modified_count == 1


def end(session_id, now):
    db().sessions.update_one({"_id": session_id, "ended_at": None}, {"$set": {"ended_at": now}})


def delete_all(user_id):
    """Remove every session of the person, live or ended; returns their ids."""
    ids = [found["_id"] for found in db().sessions.find({"user_id": user_id}, {"_id": 1})]
    if ids:
        db().sessions.delete_many({"_id": {"$in": ids}})
    return ids


def end_all(user_id, now):
    """End every live session of the person; returns their ids."""
    ids = [found["_id"] for found in db().sessions.find({"user_id": user_id, "ended_at": None}, {"_id": 1})]
    if ids:
        db().sessions.update_many({"_id": {"$in": ids}, "ended_at": None}, {"$set": {"ended_at": now}})
    return ids
