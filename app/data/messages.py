"""messages: chat_id, seq (its place in the chat), sender_id, receiver_id,
client_id (unique per sender), text, image, seen_at, created_at,
search_keys (its words for each member, app/data/search.py), and for a
message the receiver did not see, mailed_at and pushed_at once an email or
a browser notification has told them of it. An edited message also has
edits (its earlier versions, [{text, at, edit_id}], oldest first; the
first has no edit_id), edited_at,
edit_key (what orders edits, see app/chats/sending/change.py) and revision
(edits and a delete, counted); a deleted one has deleted_at, and no text,
image or edits left.

Every query reads a narrow index range: history by (chat_id, seq), what is
unseen by (receiver_id, seen_at, chat_id), never a whole chat's history.
"""

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from app.connections import db
from app.data import IDS_PER_QUERY, search

PAGE_SIZE = 50
MAX_SEQ = 2**53  # far beyond any chat, and exact as a float in the page's script


def page(chat, before=None, size=PAGE_SIZE):
    """The `size` messages before seq `before` (default: the newest), oldest
    first, and the message just before them (None if there is none): it
    says whether there are earlier ones, and how the page's first message
    follows on (same day? same sender?). Reads a seq range; a gap left by a
    redelivered job only widens the range."""
    top = chat["last_seq"] + 1 if before is None else min(before, chat["last_seq"] + 1)
    found, span = [], size + 1
    while len(found) <= size and top > 1:
        low = max(1, top - span)
        found += db().messages.find({"chat_id": chat["_id"], "seq": {"$gte": low, "$lt": top}})
        top, span = low, span * 2
    found.sort(key=lambda message: message["seq"])
    return found[-size:], found[-size - 1] if len(found) > size else None


def run(chat_id, first, last):
    """The chat's messages from seq `first` to `last`, oldest first, and the one just before them."""
    found = list(db().messages.find({"chat_id": chat_id, "seq": {"$gte": first, "$lte": last}}).sort("seq", 1))
    return found, before(chat_id, first)


def at_or_after(chat_id, seq):
    """The chat's message number `seq`, or the first after it; None if there is none."""
    return db().messages.find_one({"chat_id": chat_id, "seq": {"$gte": seq}}, sort=[("seq", 1)])


def before(chat_id, seq):
    """The chat's message just before seq `seq` (a gap left by a redelivered job is skipped), or None."""
    return db().messages.find_one({"chat_id": chat_id, "seq": {"$lt": seq}}, sort=[("seq", -1)])


def save_all(new_messages):
    """Insert messages. Returns the client_ids that were already saved (same
    sender and client_id: a redelivered or doubly sent job) and those whose
    seq was taken (to number again)."""
    if not new_messages:
        return set(), set()
    for message in new_messages:
        message.update(text_fields(message.get("text") or "", message))
    try:
        db().messages.insert_many(new_messages, ordered=False)
    except BulkWriteError as error:
        duplicates, collided = set(), set()
        for failure in error.details["writeErrors"]:
            if failure["code"] != 11000:
                raise
            client_id = new_messages[failure["index"]]["client_id"]
            (collided if "seq" in failure.get("keyPattern", {}) else duplicates).add(client_id)
        return duplicates, collided
    return set(), set()


def text_fields(text, message):
    """The fields `message`'s text sets: the one place that writes text,
    so that what is derived from it (its search keys, for both members) is
    written with it, on a send, an edit and a delete alike."""
    return {"text": text, "search_keys": search.keys(text, (message["sender_id"], message["receiver_id"]))}


def of_sender(sender_id, client_id):
    """The sender's message with this client_id, or None (an indexed lookup)."""
    return db().messages.find_one({"sender_id": sender_id, "client_id": client_id})


def edit(doc, text, at, edit_key):
    """Give `doc` (as it was read) new text, keeping its current text as an
    earlier version; only if it is unchanged since it was read and not
    deleted. Returns the message as it now is, or None if it had changed."""
    earlier = {"text": doc.get("text") or "", "at": doc.get("edited_at") or doc["created_at"]}
    if doc.get("edit_key"):  # the edit that made that version (its key ends with the edit's id)
        earlier["edit_id"] = doc["edit_key"].rsplit(" ", 1)[-1]
    changes = {**text_fields(text, doc), "edited_at": at, "edit_key": edit_key}
    return db().messages.find_one_and_update(
        {"_id": doc["_id"], "edit_key": doc.get("edit_key"), "deleted_at": None},
        {"$set": changes, "$push": {"edits": earlier}, "$inc": {"revision": 1}},
        return_document=ReturnDocument.AFTER,
    )


def delete(doc, at):
    """Leave `doc` "deleted": no text, image or earlier versions, nor its
    words in the quotes of replies to it. A deleted
    message waits for no one, so an unseen one counts as seen (no unread
    count, email or notification includes it). Returns the message as it
    now is, or None if it was deleted already."""
    # First what replies quote of it (again on a redelivery: the same change), then the message.
    db().messages.update_many(
        {"reply_to.client_id": doc["client_id"], "chat_id": doc["chat_id"]},
        {"$set": {"reply_to.text": "", "reply_to.image": False, "reply_to.deleted": True}},
    )
    changes = {**text_fields("", doc), "image": None, "edits": [], "deleted_at": at}
    changes["seen_at"] = doc.get("seen_at") or at
    return db().messages.find_one_and_update(
        {"_id": doc["_id"], "deleted_at": None},
        {"$set": changes, "$inc": {"revision": 1}, "$unset": {"edited_at": "", "edit_key": ""}},
        return_document=ReturnDocument.AFTER,
    )


def highest_seq(chat_id, above=0):
    """The highest seq stored in the chat, if above `above`; else `above`."""
    found = db().messages.find_one({"chat_id": chat_id, "seq": {"$gt": above}}, {"seq": 1}, sort=[("seq", -1)])
    return found["seq"] if found else above


def in_chat(chat_id, members, client_id):
    """The chat's message with this client_id (client_ids are unique per sender), or None."""
    return db().messages.find_one({"sender_id": {"$in": list(members)}, "client_id": client_id, "chat_id": chat_id})


def by_client_ids(sender_id, client_ids):
    found = db().messages.find({"sender_id": sender_id, "client_id": {"$in": list(client_ids)}})
    return {message["client_id"]: message for message in found}


def unseen(chat_id, receiver_id):
    """Messages in the chat that `receiver_id` has not seen yet."""
    return list(db().messages.find({"receiver_id": receiver_id, "seen_at": None, "chat_id": chat_id}))


def unseen_by(receiver_id):
    """Everything `receiver_id` has not seen yet, in every chat, without images' URLs."""
    fields = ("chat_id", "seq", "sender_id", "text", "image.alt", "created_at", "mailed_at", "pushed_at")
    return list(db().messages.find({"receiver_id": receiver_id, "seen_at": None}, dict.fromkeys(fields, 1)))


def mark_told(message_ids, how, at):
    """The receiver was told of these messages, by `how`: "mailed_at" or "pushed_at"."""
    message_ids = list(message_ids)
    for start in range(0, len(message_ids), IDS_PER_QUERY):
        db().messages.update_many({"_id": {"$in": message_ids[start : start + IDS_PER_QUERY]}}, {"$set": {how: at}})


def count_unseen(chat_id, receiver_id):
    return db().messages.count_documents({"receiver_id": receiver_id, "seen_at": None, "chat_id": chat_id})


def mark_seen(message_ids, at):
    if message_ids:
        db().messages.update_many({"_id": {"$in": list(message_ids)}}, {"$set": {"seen_at": at}})


def in_chats(chat_ids):
    """Every message of these chats, chat by chat in order (for an export)."""
    return db().messages.find({"chat_id": {"$in": list(chat_ids)}}).sort([("chat_id", 1), ("seq", 1)])


def images_sent_by(sender_id):
    return [m["image"] for m in db().messages.find({"sender_id": sender_id, "image": {"$ne": None}}, {"image": 1})]


def delete_sent_by(sender_id):
    db().messages.delete_many({"sender_id": sender_id})


def newest(chat_id):
    return db().messages.find_one({"chat_id": chat_id}, sort=[("seq", -1)])
