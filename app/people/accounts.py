"""A person's data as a whole: exporting it, and deleting the account.

Deleting removes the person and everything they wrote (their messages, with
their text and images); the chats stay, so the other member keeps their own
messages and sees the person as "Deleted account". Each step can be run
again, and the user document goes last, so a delete that stopped halfway is
finished by running it again.
"""

from app import clock, notifications
from app.auth import session_store
from app.chats import contacts, images, live, present, viewing
from app.chats.sending import pending
from app.data import chats, messages, users
from app.realtime import presence, push

# What each part keeps of a person, beside their messages and profile: all
# goes with the account (sign-in limits stay: they are per address and requester).
KEEPERS = (pending, viewing, live, contacts, presence, push, session_store, notifications)


def export(user):
    """The person's profile, chats and messages (image URLs included), as JSON-able data."""
    member_of = chats.every_chat_of(user["_id"])
    others = [chats.other_member(chat["members"], user["_id"]) for chat in member_of]
    names = users.names(others)
    by_chat = {}
    for message in messages.in_chats([chat["_id"] for chat in member_of]):
        by_chat.setdefault(message["chat_id"], []).append(
            {
                "from": "you" if message["sender_id"] == user["_id"] else names[message["sender_id"]],
                "text": message.get("text") or "",
                "image": _image(message.get("image")),
                "sent_at": _time(message["created_at"]),
                "seen_at": _time(message.get("seen_at")),
                "earlier_versions": [
                    {"text": earlier["text"], "at": _time(earlier["at"])} for earlier in message.get("edits") or ()
                ],
                "deleted_at": _time(message.get("deleted_at")),
            }
        )
    return {
        "exported_at": _time(clock.now()),
        "profile": {
            "email": user["email"],
            "name": user["name"],
            "created_at": _time(user.get("created_at")),
            "last_seen_at": _time(user.get("last_seen_at")),
        },
        "notifications": notifications.export(user),
        "chats": [
            {
                "id": str(chat["_id"]),
                "with": names[other],
                "started_at": _time(chat.get("created_at")),
                "messages": by_chat.get(chat["_id"], []),
            }
            for chat, other in zip(member_of, others)
        ],
    }


def _image(image):
    return image and {name: image.get(name) for name in ("url", "width", "height", "alt")}


def _time(at):
    return at and at.isoformat(timespec="seconds")


def delete(user):
    """Delete the account. First the person is signed out everywhere and
    their open pages close (4401), so nothing more is written as them."""
    user_id = user["_id"]
    session_store.end_all(user_id)
    for image in messages.images_sent_by(user_id):
        images.discard(image)
    messages.delete_sent_by(user_id)
    for chat in chats.every_chat_of(user_id):
        other = chats.other_member(chat["members"], user_id)
        contacts.changed(other)
        newest = messages.newest(chat["_id"])
        chats.forget_member_messages(chat["_id"], user_id, other, newest and present.latest_message(newest))
    for keeper in KEEPERS:
        keeper.forget(user_id)
    users.delete(user)
