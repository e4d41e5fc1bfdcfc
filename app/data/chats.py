"""chats: the two member ids, a unique key for the pair, latest_message,
updated_at, and last_seq (the sequence number of the chat's newest message)."""

from datetime import UTC, datetime
from functools import lru_cache

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument

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


def open_between(a, b):
    """The one chat between a and b, created if needed; safe when both start it at once."""
    key = pair_key(a, b)
    now = datetime.now(UTC)
    new_chat = {
        "members": sorted((a, b)),
        "created_at": now,
        "updated_at": now,
        "latest_message": None,
        "last_seq": 0,
    }
    return upsert(db().chats, {"pair": key}, new_chat)


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


def record_messages(chat_id, count, latest_message):
    """Reserve `count` sequence numbers and set the latest message, in one
    atomic update; returns the last reserved number."""
    chat = db().chats.find_one_and_update(
        {"_id": chat_id},
        {
            "$inc": {"last_seq": count},
            "$set": {"latest_message": latest_message, "updated_at": latest_message["at"]},
        },
        projection={"last_seq": 1},
        return_document=ReturnDocument.AFTER,
    )
    return chat["last_seq"]
