"""Replies: a message may answer an earlier one of its chat. It carries a
quote of that message, copied when it is sent (who wrote it and its first
words), so the quote reads the same after the original is edited, and a
link that opens the original in place."""

from app.chats import present
from app.chats.sending.job import CLIENT_ID, MAX_QUOTE
from app.data import messages

QUOTE_LENGTH = 100  # characters of the original a quote keeps, ending at a word


class NoSuchMessage(Exception):
    """The message to answer is not (or not yet) one of the chat's."""


def quote(chat_id, members, client_id, names):
    """The quote of the chat's message `client_id`, for a reply to carry;
    `names` is {member id: name}. NoSuchMessage if the chat has no such
    message saved (one still on its way can be answered once it is sent)."""
    original = messages.in_chat(chat_id, members, client_id) if CLIENT_ID.match(client_id or "") else None
    if original is None:
        raise NoSuchMessage("The message you are replying to is not in this chat. Reply to another one.")
    image = bool(original.get("image"))
    return {
        "client_id": original["client_id"],
        "seq": original["seq"],
        "sender_id": original["sender_id"],
        "name": names.get(original["sender_id"], "Someone")[:MAX_QUOTE],
        "text": present.shortened(original.get("text") or "", QUOTE_LENGTH),
        "image": image,
    }
