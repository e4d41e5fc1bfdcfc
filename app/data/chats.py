"""chats: the two member ids, a unique key for the pair, latest_message,
updated_at, last_seq (the sequence number of the chat's newest message),
unread ({member id: messages waiting for them}), kept by the chat worker and
zeroed when the member looks at the chat, so the Chats list needs no count,
blocked_by (the members who blocked the other: then neither can send,
neither sees the other's presence, and the chat leaves the blocker's Chats),
and unmailed (the members with messages here that they have not seen and no
email has told them of yet: added to with their unread count, emptied as
they read or are mailed; indexed, so the checks that Redis may lose are
found again here, see app/notifications/schedule.py)."""

import secrets
from datetime import UTC, datetime

from bson import ObjectId
from cachetools import LRUCache
from pymongo import ReturnDocument, UpdateOne
from pymongo.write_concern import WriteConcern

from app.connections import db
from app.data import by_ids, upsert

JOURNALED = WriteConcern(j=True)
LOWEST_ID = ObjectId(b"\x00" * 12)


def pair_key(a, b):
    return ":".join(sorted((str(a), str(b))))


def parse_id(text):
    """The ObjectId in `text` (or `text` itself, an ObjectId), or None: a
    missing or malformed id is treated like an unknown one. (ObjectId(None)
    makes a new id: every page without a chat asked MongoDB for one.)"""
    if isinstance(text, ObjectId):
        return text
    return ObjectId(text) if isinstance(text, str) and ObjectId.is_valid(text) else None


def random_id():
    """An ObjectId of 96 random bits. The server's own ids count up (two
    chats made a second apart differed by 2), so an outsider could name the
    next chats; these cannot be guessed."""
    return ObjectId(secrets.token_bytes(12))


def new_chat(a, b):
    """A chat document for the pair, with no messages yet."""
    now = datetime.now(UTC)
    return {
        "_id": random_id(),
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
    return start_between(a, b)[0]


def start_between(a, b):
    """open_between, and whether this call created the chat."""
    chat = new_chat(a, b)
    return upsert(db().chats, {"pair": chat.pop("pair")}, chat)


def get(chat_id):
    return db().chats.find_one({"_id": chat_id})


def every_chat_of(user_id):
    """All of a member's chats, those they blocked too (for their data's export or deletion)."""
    return list(db().chats.find({"members": user_id}).sort("created_at", 1))


def ids_of(user_id):
    """The ids of all of a member's chats, those they blocked too."""
    return [chat["_id"] for chat in db().chats.find({"members": user_id}, {"_id": 1})]


def for_member(user_id, since=None):
    """A member's chats, most recent activity first, but for those they
    blocked; with `since`, only those active since then. SecantusDB reads the
    whole index range whatever the limit, so `since` is what bounds the read
    (1,000 chats: 155 ms for the first 100 of all, 19 ms for the 100 since
    the hundredth's activity). Blocks are left out here, not in the query: a
    third field took the query off the (members, updated_at) range."""
    query = {"members": user_id}
    if since is not None:
        query["updated_at"] = {"$gte": since}
    found = db().chats.find(query).sort("updated_at", -1).batch_size(1000)  # in one reply: a second took 2-3 ms
    return [chat for chat in found if user_id not in chat.get("blocked_by", ())]


def other_member(members, user_id):
    """The member of a chat (its `members`) who is not `user_id`."""
    first, second = members
    return second if first == user_id else first


# chat id -> its two members, which never change: read on every send,
# signal and page of a chat; the chats least lately used go first.
_members = LRUCache(maxsize=20_000)


def members(chat_id):
    """The chat's two member ids, or None if there is no such chat. Kept for
    the life of the process once found; "no such chat" is never kept, since
    the chat may be created a moment later."""
    found = _members.get(chat_id)
    if found is None:
        chat = db().chats.find_one({"_id": chat_id}, {"members": 1})
        if chat is None:
            return None
        found = _members[chat_id] = tuple(chat["members"])
    return found


def membership(chat_id, user_id):
    """The chat's members if `user_id` is one of them, else None: no such
    chat and someone else's chat are the same answer. `chat_id` may be the
    text of an id (from a URL or a page)."""
    if not isinstance(chat_id, ObjectId):
        chat_id = parse_id(chat_id)
    found = chat_id and members(chat_id)
    return found if found and user_id in found else None


def contacts(user_id):
    """Everyone `user_id` has a chat with that neither of them blocked."""
    found = db().chats.find({"members": user_id}, {"members": 1, "blocked_by": 1})
    return [other_member(chat["members"], user_id) for chat in found if not chat.get("blocked_by")]


def blocked_by(chat_id):
    """The members of the chat who blocked the other (read afresh: a block counts at once)."""
    chat = db().chats.find_one({"_id": chat_id}, {"blocked_by": 1})
    return (chat or {}).get("blocked_by") or []


def block(chat_id, blocker_id):
    db().chats.update_one({"_id": chat_id}, {"$addToSet": {"blocked_by": blocker_id}})


def unblock(chat_id, blocker_id):
    db().chats.update_one({"_id": chat_id}, {"$pull": {"blocked_by": blocker_id}})


def blocked_chats(user_id):
    """The chats whose other member `user_id` blocked."""
    return list(db().chats.find({"members": user_id, "blocked_by": user_id}, {"members": 1}))


def blockers_of(user_id):
    """The people who blocked `user_id`."""
    blockers = set()
    for chat in db().chats.find({"members": user_id, "blocked_by": {"$exists": True}}, {"members": 1, "blocked_by": 1}):
        other = other_member(chat["members"], user_id)
        if other in chat["blocked_by"]:
            blockers.add(other)
    return blockers


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
            waiting = [member for member, n in added.get(chat_id, {}).items() if n]
            update["$addToSet"] = {"unmailed": {"$each": waiting}}
        if exact:
            update["$set"] = {f"unread.{member}": n for member, n in exact.items()}
        operations.append(UpdateOne({"_id": chat_id}, update))
    if operations:
        # Journaled: the chat worker acks its jobs after this, and a store
        # that is killed must not lose what it acknowledged. The journal is
        # written in order, so this also makes durable the messages saved
        # before it. Measured on SecantusDB: 15 of 15 such writes lost to a
        # SIGKILL without it, none with it; about 0.3 ms a batch.
        db().chats.with_options(write_concern=JOURNALED).bulk_write(operations, ordered=False)


def latest_messages(chat_ids):
    """{chat_id: its latest_message summary} for the chats that have one."""
    found = by_ids(db().chats, chat_ids, {"latest_message": 1})
    return {chat["_id"]: chat["latest_message"] for chat in found if chat.get("latest_message")}


def get_many(chat_ids):
    return {chat["_id"]: chat for chat in by_ids(db().chats, chat_ids)}


def unread(chat, member_id):
    return (chat.get("unread") or {}).get(str(member_id), 0)


def mark_read(chat_id, member_id):
    db().chats.update_one({"_id": chat_id}, {"$set": {f"unread.{member_id}": 0}, "$pull": {"unmailed": member_id}})


def mailed(member_id, up_to):
    """The member was mailed about their unseen messages in these chats ({chat_id:
    the highest seq the email covered}): they wait no more, unless a later
    message has come meanwhile."""
    operations = [
        UpdateOne({"_id": chat_id, "last_seq": {"$lte": seq}}, {"$pull": {"unmailed": member_id}})
        for chat_id, seq in up_to.items()
    ]
    if operations:
        db().chats.bulk_write(operations, ordered=False)


def waiting_for_mail():
    """Everyone with unseen messages that no email has told them of yet."""
    found = db().chats.find({"unmailed": {"$gt": LOWEST_ID}}, {"unmailed": 1})
    return {member for chat in found for member in chat["unmailed"]}


def forget_member_messages(chat_id, member_id, other_id, latest):
    """After `member_id`'s messages are deleted: `latest` (a summary, or None)
    is the chat's latest message, and nothing waits unread for either member
    (all that waited for the other was the deleted member's)."""
    db().chats.update_one(
        {"_id": chat_id},
        {
            "$set": {"latest_message": latest, f"unread.{other_id}": 0},
            "$unset": {f"unread.{member_id}": ""},
            "$pull": {"unmailed": {"$in": [member_id, other_id]}},
        },
    )


def message_changed(chat_id, summary, unseen_by=None, recount=None):
    """After a message was edited or deleted: `summary` (its latest_message
    summary, a revision on) replaces the chat's latest message if that is
    the same message at an earlier revision (a later message stays; a
    summary from before revisions were counted has none). `unseen_by`: the
    deleted message was waiting unseen for this member, one fewer now
    (never below nothing); `recount`: {member: unread, counted afresh},
    when a redelivered delete may or may not have counted already. Returns
    the chat as it now is."""
    earlier = [
        {"latest_message.revision": {"$lt": summary["revision"]}},
        {"latest_message.revision": {"$exists": False}},
    ]
    found = {"_id": chat_id, "latest_message.seq": summary["seq"], "$or": earlier}
    chat = db().chats.find_one_and_update(
        found, {"$set": {"latest_message": summary}}, return_document=ReturnDocument.AFTER
    )
    if recount:
        update = {"$set": {f"unread.{member}": n for member, n in recount.items()}}
        chat = db().chats.find_one_and_update({"_id": chat_id}, update, return_document=ReturnDocument.AFTER)
    elif unseen_by is not None:
        field = f"unread.{unseen_by}"
        chat = db().chats.find_one_and_update(
            {"_id": chat_id, field: {"$gt": 0}}, {"$inc": {field: -1}}, return_document=ReturnDocument.AFTER
        )
    return chat or get(chat_id)
