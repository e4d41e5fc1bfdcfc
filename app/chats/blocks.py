"""Blocks as sends and typing check them: who blocked whom in a chat, kept
in Redis for KEEP seconds. Every send read the chat's `blocked_by` from
MongoDB, 13% of the web process's CPU at 150 msg/s.

MongoDB stays the truth. A block or an unblock writes the chat, then keeps
its new state at once; a refill from MongoDB keeps what it read only where
nothing is kept yet, so a refill that read before a block cannot undo it.
Should Redis lose or roll back a kept state, MongoDB's answer is back within
KEEP seconds."""

from bson import ObjectId
from markupsafe import Markup
from redis.exceptions import RedisError

from app.chats import contacts
from app.connections import key, redis_client
from app.data import chats
from app.text import bdi

KEEP = 15


def state_key(chat_id):
    return key("blocks", chat_id)


def of(chat_id):
    """The members of the chat who blocked the other (usually none)."""
    kept = redis_client().get(state_key(chat_id))
    if kept is not None:
        return [ObjectId(blocker) for blocker in kept.split()]
    blocked = chats.blocked_by(chat_id)
    try:
        redis_client().set(state_key(chat_id), _text(blocked), nx=True, ex=KEEP)
    except RedisError:  # out of memory, say: keeping it is only a saving, MongoDB has answered
        pass
    return blocked


def of_many(chat_ids):
    """{chat id: its members who blocked the other} for several chats, in one round trip when all are kept."""
    chat_ids = list(chat_ids)
    kept = redis_client().mget([state_key(chat_id) for chat_id in chat_ids]) if chat_ids else []
    return {
        chat_id: of(chat_id) if text is None else [ObjectId(blocker) for blocker in text.split()]
        for chat_id, text in zip(chat_ids, kept)
    }


def refusal(blocked, sender_id, other_name):
    """Why `sender_id` cannot send in a chat whose blockers are `blocked`, or None."""
    if not blocked:
        return None
    if sender_id in blocked:
        return Markup("You blocked {}. Unblock them to send messages.").format(bdi(other_name))
    return Markup("{} is not taking messages from you.").format(bdi(other_name))


def block(chat_id, blocker_id, members):
    chats.block(chat_id, blocker_id)
    _changed(chat_id, members)


def unblock(chat_id, blocker_id, members):
    chats.unblock(chat_id, blocker_id)
    _changed(chat_id, members)


def _changed(chat_id, members):
    try:
        redis_client().set(state_key(chat_id), _text(chats.blocked_by(chat_id)), ex=KEEP)
    except RedisError:  # out of memory, say: what was kept must go, then sends read MongoDB
        redis_client().delete(state_key(chat_id))
    contacts.changed(*members)


def _text(blocked):
    return " ".join(str(blocker) for blocker in blocked)
