"""Read receipts: when someone looks at a chat, what was sent to them is seen."""

from app import clock
from app.chats import blocks, present
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import Outbox


def mark_seen(chat, viewer_id):
    """Mark what was sent to the viewer in `chat` as seen: zero their unread
    count, push the receipts to the sender and the count to the viewer's
    other pages."""
    counted = chats.unread(chat, viewer_id)
    if not counted:
        # Nothing is unseen: the chat worker counts each message it saves
        # unseen before it looks for viewers who came late (delivery.deliver),
        # so one saved since `chat` was read is seen by that look, or by the
        # socket's own look when its page attaches. Every page load and chat
        # open asked MongoDB for nothing otherwise.
        return
    chats.mark_read(chat["_id"], viewer_id)  # first, so a message the worker counts after this stays counted
    # Across a block nothing is marked seen, either way: the block page
    # promises the blocked person sees nothing of the blocker.
    unseen = [] if blocks.of(chat["_id"]) else messages.unseen(chat["_id"], viewer_id)
    sender_id = chats.other_member(chat["members"], viewer_id)
    people = users.recent_people([sender_id, viewer_id])
    outbox = Outbox()
    if unseen:
        now = clock.now()
        messages.mark_seen([message["_id"] for message in unseen], now)
        for message in unseen:
            message["seen_at"] = now
        for html in present.seen_updates(chat["_id"], unseen, sender_id, present.zone_of(people.get(sender_id))):
            outbox.add(sender_id, html)
        outbox.add(sender_id, events=[present.seen_event(chat["_id"], unseen)])
    names = {user_id: person["name"] for user_id, person in people.items()}
    online = presence.online([sender_id])
    entry = present.chat_entry(chat, viewer_id, names, online, 0, present.zone_of(people.get(viewer_id)))
    outbox.add(viewer_id, present.entry_update(entry))
    outbox.send()
