"""chats: the two member ids, a unique key for the pair, latest_message,
updated_at, last_seq (the sequence number of the chat's newest message) and
unread ({member id: messages waiting for them}), kept by the chat worker and
zeroed when the member looks at the chat, so the Chats list needs no count."""

from datetime import UTC, datetime
from functools import lru_cache

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import UpdateOne

from app.connections import db
from app.data import upsert

CHAT_LIST_LIMIT = 100


def pair_key(a, b):
    return ":".join(sorted((str(a), str(b))))


def parse_id(text):
    """The ObjectId in `text`, or None: a malformed id is treated like an unknown one."""
    try:
        return ObjectId(text)
    except (InvalidId, TypeError):
        return None


def new_chat(a, b):
    """A chat document for the pair, with no messages yet."""
    now = datetime.now(UTC)
    return {
        "pair": pair_key(a, b),
        "members": sorted((a, b)),
        "created_at": now,
        "updated_at": now,
        "latest_message": None,
        "last_seq": 0,
        "unread": {},
    }


def open_between(a, b):
    """The one chat between a and b, created if needed; safe when both start it at once."""
    chat = new_chat(a, b)
    return upsert(db().chats, {"pair": chat.pop("pair")}, chat)


def get(chat_id):
    return db().chats.find_one({"_id": chat_id})


def for_member(user_id, limit=CHAT_LIST_LIMIT):
    """A member's chats, most recent activity first."""
    return list(db().chats.find({"members": user_id}).sort("updated_at", -1).limit(limit))


def other_member(chat, user_id):
    first, second = chat["members"]
    return second if first == user_id else first


@lru_cache(maxsize=20_000)
def members(chat_id):
    """The chat's two member ids, or None if there is no such chat. Members
    never change, so this is cached for the life of the process."""
    chat = db().chats.find_one({"_id": chat_id}, {"members": 1})
    return tuple(chat["members"]) if chat else None


def contacts(user_id):
    """Everyone `user_id` has a chat with."""
    found = db().chats.find({"members": user_id}, {"members": 1})
    return [other_member(chat, user_id) for chat in found]


def record_messages(latest, added, recounted=None):
    """Apply the chat worker's updates in one round trip: `latest` is
    {chat_id: latest_message summary}, `added` {chat_id: {member id: new
    unread messages}}, `recounted` {chat_id: {member id: unread, counted
    afresh}} for chats a redelivered job touches, where an earlier try may or
    may not have added its messages already. $max keeps the newest latest
    message whatever order two workers write in: the summary's first field is
    its seq, and documents compare field by field."""
    recounted = recounted or {}
    operations = []
    for chat_id, summary in latest.items():
        update = {"$max": {"last_seq": summary["seq"], "latest_message": summary, "updated_at": summary["at"]}}
        exact = {str(member): n for member, n in recounted.get(chat_id, {}).items()}
        increments = {
            f"unread.{member}": n for member, n in added.get(chat_id, {}).items() if n and str(member) not in exact
        }
        if increments:
            update["$inc"] = increments
        if exact:
            update["$set"] = {f"unread.{member}": n for member, n in exact.items()}
        operations.append(UpdateOne({"_id": chat_id}, update))
    if operations:
        db().chats.bulk_write(operations, ordered=False)


def get_many(chat_ids):
    return {chat["_id"]: chat for chat in db().chats.find({"_id": {"$in": list(chat_ids)}})}


def unread(chat, member_id):
    return (chat.get("unread") or {}).get(str(member_id), 0)


def mark_read(chat_id, member_id):
    db().chats.update_one({"_id": chat_id}, {"$set": {f"unread.{member_id}": 0}})
