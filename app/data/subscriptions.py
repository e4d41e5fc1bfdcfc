"""push_subscriptions: one per browser that takes Web Push for a person:
user_id, endpoint (the push service's address for that browser, unique),
keys (p256dh and auth, for encrypting what is sent to it), created_at.
Kept in step with the person's notify.browsers count, which tells the chat
worker whom to schedule a browser notification for without reading here."""

from app import clock
from app.connections import db
from app.data import users


def of(user_id):
    return list(db().push_subscriptions.find({"user_id": user_id}).sort("created_at", 1))


def add(user_id, endpoint, keys):
    """The browser at `endpoint` notifies `user_id` (and whoever it notified before, no longer)."""
    before = db().push_subscriptions.find_one({"endpoint": endpoint}, {"user_id": 1})
    db().push_subscriptions.update_one(
        {"endpoint": endpoint},
        {"$set": {"user_id": user_id, "keys": keys}, "$setOnInsert": {"created_at": clock.now()}},
        upsert=True,
    )
    _recount(user_id)
    if before and before["user_id"] != user_id:
        _recount(before["user_id"])


def remove(endpoint, user_id=None):
    """Stop notifying the browser at `endpoint` (only if it is `user_id`'s, when given)."""
    query = {"endpoint": endpoint, **({"user_id": user_id} if user_id else {})}
    found = db().push_subscriptions.find_one(query, {"user_id": 1})
    if found:
        db().push_subscriptions.delete_one({"_id": found["_id"]})
        _recount(found["user_id"])


def remove_all(user_id):
    db().push_subscriptions.delete_many({"user_id": user_id})


def _recount(user_id):
    users.set_notify(user_id, browsers=db().push_subscriptions.count_documents({"user_id": user_id}))
