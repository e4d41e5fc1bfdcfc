"""What the chat partials show: a message as one person sees it, and an entry
of the Chats navigation. Pages and pushes both build them here and render
them with the same partials, so a pushed fragment equals the page's."""

from flask import render_template

from app.data import chats, users
from app.realtime import presence

STATUSES = ("Sending", "Sent", "Seen")  # a message only ever moves forward
PREVIEW_LENGTH = 80


def message(doc, viewer_id, sender_name):
    """`doc` is a saved message, or a pending one (no seq yet)."""
    mine = doc["sender_id"] == viewer_id
    saved = "seq" in doc
    state = 2 if doc.get("seen_at") else 1 if saved else 0
    image = doc.get("image")
    if image and not image.get("alt"):
        who = "you sent" if mine else f"from {sender_name}"
        image = {**image, "alt": f"Image {who}, no description"}
    return {
        "chat_id": doc["chat_id"],
        "client_id": doc["client_id"],
        "mine": mine,
        "sender": "You" if mine else sender_name,
        "text": doc.get("text") or "",
        "image": image,
        "at": doc["created_at"],
        "key": f"{doc['seq']:012d}" if saved else None,
        "version": state if mine else 1,  # only the sender sees the state move on
        "status": STATUSES[state] if mine else None,
    }


def latest_message(doc):
    """The chat's latest_message summary of a saved message (seq first: see chats.record_messages)."""
    return {
        "seq": doc["seq"],
        "client_id": doc["client_id"],
        "sender_id": doc["sender_id"],
        "text": (doc.get("text") or "")[:PREVIEW_LENGTH],
        "has_image": bool(doc.get("image")),
        "at": doc["created_at"],
    }


def chat_entry(chat, viewer_id, names, online, unread=None):
    """The viewer's entry for `chat` in the Chats navigation. `names` is
    {user id: name} and `online` the user ids online, each covering at least
    the other member; `unread` defaults to the count kept on the chat."""
    other = chats.other_member(chat["members"], viewer_id)
    latest = chat.get("latest_message")
    if latest:
        preview = ("You: " if latest["sender_id"] == viewer_id else "") + (latest["text"] or "Image")
    else:
        preview = "No messages yet"
    return {
        "chat_id": chat["_id"],
        "other_id": other,
        "name": names.get(other, "Someone"),
        "online": other in online and not chat.get("blocked_by"),
        "unread": chats.unread(chat, viewer_id) if unread is None else unread,
        "preview": preview,
        "at": chat["updated_at"],
        "key": f"{int(chat['updated_at'].timestamp() * 1000):015d}",
        # Entries pushed by two workers may arrive out of order: the page keeps the newer.
        "version": latest["seq"] if latest else 0,
    }


def navigation(user_id):
    """The Chats navigation: two queries and one Redis round trip, whatever the number of chats."""
    member_of = chats.for_member(user_id)
    others = [chats.other_member(chat["members"], user_id) for chat in member_of]
    names, online = users.names(others), presence.online(others)
    return [chat_entry(chat, user_id, names, online) for chat in member_of]


def message_update(view, announce=False):
    """Push: put the message in its chat's log (and, for the receiver, announce it)."""
    return render_template("chats/_message_update.html", m=view, announce=announce)


def entry_update(entry):
    """Push: put the entry in its place in the Chats navigation."""
    return render_template("chats/_chat_entry_update.html", entry=entry)
