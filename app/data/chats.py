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


def record_messages(updates):
    """Apply the chat worker's updates, {chat_id: (last_seq, latest_message,
    {member id: new unread})}, in one round trip. $max keeps the newest
    latest message whatever order two workers write in: the summary's first
    field is its seq, and documents compare field by field."""
    db().chats.bulk_write(
        [
            UpdateOne(
                {"_id": chat_id},
                {
                    "$max": {"last_seq": last_seq, "latest_message": latest, "updated_at": latest["at"]},
                    "$inc": {f"unread.{member}": n for member, n in unread.items() if n},
                },
            )
            for chat_id, (last_seq, latest, unread) in updates.items()
        ],
        ordered=False,
    )


def get_many(chat_ids):
    return {chat["_id"]: chat for chat in db().chats.find({"_id": {"$in": list(chat_ids)}})}


def unread(chat, member_id):
    return (chat.get("unread") or {}).get(str(member_id), 0)


def mark_read(chat_id, member_id):
    db().chats.update_one({"_id": chat_id}, {"$set": {f"unread.{member_id}": 0}})
