"""Parley's people, chats and messages in the original system's JSON shapes
(its Mongoose documents: `_id`, camelCase, `createdAt` as ISO text, `__v`),
for the HTTP answers and the Socket.IO events alike. A message's `_id` is its
client_id: the same while it is on its way and once it is saved, so a client
that lists the pending copy replaces it when `message:new` comes.

Nobody's email is shown but your own (the original showed everyone's): the
original's front end skips people without one, so others carry HIDDEN_EMAIL."""

from urllib.parse import urljoin

from app.chats import present
from app.data import chats
from app.data.chats import members
from app.formatting import iso_millis

HIDDEN_EMAIL = "hidden"
IMAGE_PREVIEW = "📷 Image"  # the original's chat-list text for an image


def user(doc, viewer_id):
    """A person as `viewer_id` sees them: their email only if it is the viewer."""
    created = iso_millis(doc.get("created_at"))
    return {
        "_id": str(doc["_id"]),
        "name": doc["name"],
        "email": doc["email"] if doc["_id"] == viewer_id and doc.get("email") else HIDDEN_EMAIL,
        "createdAt": created,
        "updatedAt": created,
        "__v": 0,
    }


def message(data, base_url):
    """A message from its event data (present.message_event). Image URLs are
    made absolute against `base_url`: the client's pages live on another site."""
    shaped = {
        "_id": data["id"],
        "chatId": data["chat_id"],
        "sender": data["sender_id"],
        "text": data["text"],
        "messageType": "image" if data["image"] else "text",
        "seen": data["seen_at"] is not None,
        "seenAt": data["seen_at"],
        "createdAt": data["created_at"],
        "updatedAt": data["seen_at"] or data["created_at"],
        "__v": 0,
    }
    if data["image"]:
        image = data["image"]
        public_id = image["ref"].partition(":")[2]
        shaped["image"] = {"url": urljoin(base_url, image["url"]), "publicId": public_id, "alt": image["alt"]}
    return shaped


def message_of(doc, base_url):
    """A saved or pending message document."""
    return message(present.message_event(doc)[1], base_url)


def latest_message(summary):
    """The chat's latest message, as the original stored it (`sender`) and as
    its front end read it (`senderId`)."""
    if not summary:
        return None
    sender = str(summary["sender_id"])
    text = summary["text"] or (IMAGE_PREVIEW if summary.get("has_image") else "")
    return {"text": text, "sender": sender, "senderId": sender}


def chat(doc, viewer_id):
    """A chat as its member `viewer_id` sees it."""
    return {
        "_id": str(doc["_id"]),
        "users": [str(member) for member in doc["members"]],
        "latestMessage": latest_message(doc.get("latest_message")),
        "unseenCount": chats.unread(doc, viewer_id),
        "createdAt": iso_millis(doc.get("created_at")),
        "updatedAt": iso_millis(doc.get("updated_at")),
        "__v": 0,
    }


def sent_chat(job):
    """The chat as a send leaves it, from the job alone: a send reads no chat
    (it answered twice as slowly when it did)."""
    summary = {"sender_id": job.sender_id, "text": job.text[: present.PREVIEW_LENGTH], "has_image": bool(job.image)}
    return {
        "_id": str(job.chat_id),
        "users": [str(member) for member in members(job.chat_id)],
        "latestMessage": latest_message(summary),
        "updatedAt": iso_millis(job.sent_at),
        "__v": 0,
    }
