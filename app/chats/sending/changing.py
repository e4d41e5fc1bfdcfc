"""The chat worker's side of an edit or a delete (see change.py): applied
once, in the order the changes were made, then pushed to both members in
place of the message, never announced as a new one. The message's chat
follows: its Chats preview when it is the latest, and the receiver's
unread count when an unseen message is deleted.

A change whose message is not stored yet waits (Retry) while the send is
still on its way (pending), and is dead-lettered (Reject) when there is no
such send: the web side accepts changes only to messages it found."""

import logging

from app import logs
from app.broker.consumer import Reject, Retry
from app.chats import blocks, images, present
from app.chats.sending import pending
from app.chats.sending.change import EDIT_WINDOW
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import Outbox

log = logging.getLogger(__name__)


def apply(changes):
    """Apply changes in order; returns [(change, Retry or Reject)] for those not done."""
    failures = []
    for change in changes:
        try:
            apply_one(change)
        except (Retry, Reject) as failure:
            failures.append((change, failure))
    return failures


def apply_one(change):
    doc = messages.of_sender(change.sender_id, change.client_id)
    if doc is None or doc["chat_id"] != change.chat_id:
        if pending.is_pending(change.chat_id, change.sender_id, change.client_id):
            raise Retry(f"its message {change.client_id} is still on its way")
        raise Reject(f"there is no message {change.client_id} of {change.sender_id} in chat {change.chat_id}")
    changed, unseen_by, recount = (_edit(change, doc), None, None) if change.kind == "edit" else _delete(change, doc)
    if changed is None:
        return
    chat = chats.message_changed(change.chat_id, present.latest_message(changed), unseen_by, recount)
    push(changed, chat)
    log.info(
        "changed a message",
        extra=logs.fields(kind=change.kind, client_id=change.client_id, request_ids=change.request_id),
    )


def _edit(change, doc):
    """The message with the edit applied, or None when there is nothing to
    push: deleted, too late, across a block, or done before (then pushed
    again only if this is a redelivery, which may have stopped before its push)."""
    if change.at - doc["created_at"] >= EDIT_WINDOW or blocks.of(change.chat_id):
        log.info("not applying an edit: too late, or blocked", extra=logs.fields(client_id=doc["client_id"]))
        return None
    while doc is not None and not doc.get("deleted_at"):
        current = doc.get("edit_key") or ""
        if current.endswith(f" {change.edit_id}"):  # this edit is the current version (queued twice, or redelivered)
            return doc if change.redelivered else None
        if any(earlier.get("edit_id") == change.edit_id for earlier in doc.get("edits") or ()):
            return None  # this edit was applied, and a later one since
        if change.edit_key <= current:  # a later edit is already there
            return None
        if not (change.text or doc.get("image")) or change.text == (doc.get("text") or ""):
            return None  # no text and no image, or nothing changes
        edited = messages.edit(doc, change.text, change.at, change.edit_key)
        if edited is not None:
            return edited
        doc = messages.of_sender(change.sender_id, change.client_id)  # edited meanwhile: look again
    return None


def _delete(change, doc):
    """(the deleted message or None, the member it was waiting for unseen, a recount of their unread)."""
    if doc.get("deleted_at"):  # done; a redelivery may have stopped before updating the chat and pushing
        if not change.redelivered:
            return None, None, None
        return doc, None, {doc["receiver_id"]: messages.count_unseen(doc["chat_id"], doc["receiver_id"])}
    # The image first: a try that stops after this is redelivered, finds the
    # message not yet deleted, removes nothing more and deletes it.
    images.discard(doc.get("image"))
    deleted = messages.delete(doc, change.at)
    if deleted is None:  # deleted meanwhile, by another worker: it pushes
        return None, None, None
    unseen_by = doc["receiver_id"] if doc.get("seen_at") is None else None
    if change.redelivered and unseen_by is not None:
        return deleted, None, {unseen_by: messages.count_unseen(doc["chat_id"], unseen_by)}
    return deleted, unseen_by, None


def push(doc, chat):
    """The changed message in place to both members, and their Chats entries."""
    members = chat["members"]
    people = users.recent_people(members)
    names = {user_id: person["name"] for user_id, person in people.items()}
    previous = messages.before(doc["chat_id"], doc["seq"])
    online = presence.online(members)
    outbox = Outbox()
    for member in members:
        tz = present.zone_of(people.get(member))
        view = present.message(doc, member, names.get(doc["sender_id"], "Someone"), previous, tz)
        outbox.add(member, present.message_update(view))
        outbox.add(member, present.entry_update(present.chat_entry(chat, member, names, online, tz=tz)))
    outbox.send()
