"""Read receipts: when someone looks at a chat, what was sent to them is seen."""

from datetime import UTC, datetime

from app.chats import present
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import Outbox


def mark_seen(chat, viewer_id):
    """Mark the viewer's unseen messages in `chat` seen; push the receipts to
    the sender and the zeroed unread count to the viewer's other pages."""
    unseen = messages.unseen(chat["_id"], viewer_id)
    if not unseen:
        return
    now = datetime.now(UTC)
    messages.mark_seen([message["_id"] for message in unseen], now)
    sender_id = chats.other_member(chat, viewer_id)
    names = users.names([sender_id])
    outbox = Outbox()
    for message in unseen:
        message["seen_at"] = now
        outbox.add(sender_id, present.message_update(present.message(message, sender_id, "You")))
    online = sender_id in presence.online([sender_id])
    entry = present.chat_entry(chat, viewer_id, names.get(sender_id, "Someone"), 0, online)
    outbox.add(viewer_id, present.entry_update(entry))
    outbox.send()
