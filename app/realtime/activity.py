"""What an open chat page tells the server: that someone is typing, and
whether the chat is in front of them. The same whether it arrives over the
WebSocket or, in the SSE fallback, as a small POST."""

from flask import render_template

from app.chats import receipts
from app.data import chats
from app.realtime import viewing
from app.realtime.push import Outbox


def typing(chat_id, user_id, name, is_typing):
    """Show (or clear) "NAME is typing…" on the other member's page."""
    members = chats.members(chat_id)
    if not members or user_id not in members:
        return
    other = next(member for member in members if member != user_id)
    outbox = Outbox()
    html = render_template("chats/_typing_update.html", chat_id=chat_id, name=name if is_typing else None)
    outbox.add(other, html, replayable=False)
    outbox.send()


def view(chat_id, user_id, page_id, visible):
    """The page shows the chat (visible) or not. While shown, what arrives
    there is seen at once, and what was waiting is seen now."""
    members = chats.members(chat_id)
    if not members or user_id not in members:
        return
    if not visible:
        viewing.stop(chat_id, user_id, page_id)
        return
    if viewing.start(chat_id, user_id, page_id):  # a renewal finds nothing new: the worker saw to that
        receipts.mark_seen(chats.get(chat_id), user_id)
