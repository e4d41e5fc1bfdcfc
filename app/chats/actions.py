"""What a person does in chats, the same whether a page or an API client
asks: start a chat with someone, send a message, edit or delete one's own. The views only read their
request and answer in their own form (HTML, or JSON for app/api)."""

import time

from flask import g

from app import broker, outages, tracing
from app.chats import blocks, contacts, images, live, present, replies
from app.chats.sending import change, pending
from app.chats.sending.job import Job, text_problem
from app.connections import redis_client
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import Outbox


class Refused(Exception):
    """The action cannot be done: `message` says why, for the person; `status`
    is the HTTP answer; `unblock`, that the person could undo it by unblocking."""

    def __init__(self, message, status, unblock=False):
        super().__init__(message)
        self.message, self.status, self.unblock = message, status, unblock


def start(user_id, other_id):
    """The one chat between the two people, created if needed: (chat, created).
    Refused for oneself and for someone who does not exist. The other person's
    API clients hear of a new chat, and each of the other's presence (pages
    show it on their next load)."""
    if other_id == user_id:
        raise Refused("You cannot start a chat with yourself.", 400)
    if other_id is None or users.get(other_id) is None:
        raise Refused("There is no such person.", 404)
    chat, created = chats.start_between(user_id, other_id)
    contacts.changed(user_id, other_id)
    if created:  # and each now hears of the other's presence
        online = presence.online([user_id, other_id])
        outbox = Outbox()
        outbox.add(other_id, events=[present.chat_event(chat["_id"], user_id)])
        for one, other in ((user_id, other_id), (other_id, user_id)):
            outbox.add(one, events=[present.presence_event(other, other in online)])
        outbox.send()
    return chat, created


def block_refusal(chat_id, members, sender_id):
    """Refused, if one of the chat's members blocked the other; else None."""
    blocked = blocks.of(chat_id)
    if not blocked:
        return None
    other = users.as_seen_by_others(chats.other_member(members, sender_id))
    return Refused(blocks.refusal(blocked, sender_id, other["name"]), 403, unblock=sender_id in blocked)


def send(chat_id, members, sender_id, client_id, text, upload=None, alt="", reply_to=None):
    """Accept a message from a member of the chat (its text already checked),
    answering the chat's message `reply_to` if given: its image stored, then
    kept pending and queued, so the chat worker delivers it. A client_id
    already on its way is not sent twice. Returns the job; Refused (the
    draft is the caller's to keep) when the chat is blocked, the message it
    answers is not there, the image is refused or cannot be stored, or the
    broker does not confirm the job."""
    refusal = block_refusal(chat_id, members, sender_id)
    if refusal:
        raise refusal
    quote = None
    if reply_to:
        try:
            quote = replies.quote(chat_id, members, reply_to, users.recent_names(members))
        except replies.NoSuchMessage as error:
            raise Refused(str(error), 422) from None
    image = None
    if upload:
        try:
            images.count_upload(sender_id)
            image = images.store(chat_id, upload, alt)
        except images.UploadRefused as error:
            raise Refused(str(error), 429) from None
        except images.ImageError as error:
            raise Refused(str(error), 422) from None
        except images.StorageError:
            raise Refused("We could not store your image, try again.", 503) from None
    job = Job.new(client_id, chat_id, sender_id, text or "", image, quote)
    if tracing.enabled:
        tracing.stage(job.client_id, "received", at=time.time() - (time.perf_counter() - g.request_started))
    try:
        if not pending.accept(job):
            images.discard(image)  # a double submit: the first one is on its way
    except pending.Refused as refused:  # the job's own rules, or a client_id used in another chat
        images.discard(image)
        raise Refused(str(refused), refused.status) from None
    except broker.PublishError as error:
        if not error.maybe_queued:  # else the job may still arrive, with its image
            images.discard(image)
        raise Refused(outages.MESSAGE, 503) from None
    tracing.stage(job.client_id, "confirmed")
    live.active(sender_id)
    return job


NOT_YOURS = "You can edit or delete only your own messages."


def own_message(chat_id, members, user_id, client_id):
    """The person's message in this chat with this client_id: saved, or
    still on its way (a pending send, not numbered yet). Refused when it is
    the other person's (403) or there is none (404)."""
    found = messages.of_sender(user_id, client_id)
    if found is not None and found["chat_id"] == chat_id:
        return found
    other_id = chats.other_member(members, user_id)
    on_its_way = pending.job(chat_id, user_id, client_id)
    if on_its_way is not None:
        return on_its_way.message(other_id)
    theirs = messages.of_sender(other_id, client_id)
    if theirs is not None and theirs["chat_id"] == chat_id:
        raise Refused(NOT_YOURS, 403)
    raise Refused("There is no such message in this chat.", 404)


def change_message(kind, chat_id, members, user_id, client_id, text="", edit_id=""):
    """Queue an edit (new `text`, already trimmed; `edit_id` makes a second
    submit of the same form a no-op) or a delete of the person's own message,
    for the chat worker to apply after the sends before it. Returns the
    message as it was, or None when an edit changes nothing. Refused: not
    theirs or no such message; already deleted; an edit past the window,
    without text or across a block; the broker does not confirm it."""
    # The sender's record of their recent sends knows the author and the
    # message's age, read with the edit's claim in one round trip: at 100
    # msg/s, reading the message from MongoDB made an edit cost more than a
    # send (10 ms of a 50 ms edit). The record cannot say whether a message
    # has an image, which an edit to no text needs: then MongoDB is asked.
    pipe = redis_client().pipeline(transaction=False)
    read_recent = pending.ask_sent_recently(pipe, chat_id, user_id, client_id)
    read_claim = change.ask_claim(pipe, user_id, edit_id) if kind == "edit" else None
    replies = pipe.execute()
    recent = read_recent(replies) if kind == "delete" or text else None
    if read_claim and not read_claim(replies):
        return None  # this form's edit is on its way already
    try:
        message = recent or own_message(chat_id, members, user_id, client_id)
        if message.get("deleted_at"):
            raise Refused("This message was deleted.", 409)
        if kind == "edit":
            _check_edit(message, text, chat_id, members, user_id)
            if "text" in message and text == (message.get("text") or ""):
                change.release(user_id, edit_id)
                return None  # nothing changes (the worker too leaves a message whose text is the same)
        change.queue(change.Change.new(kind, client_id, chat_id, user_id, text, edit_id))
    except Refused:
        if kind == "edit":
            change.release(user_id, edit_id)
        raise
    except broker.PublishError:
        raise Refused(outages.MESSAGE, 503) from None
    if kind == "delete" and recent:
        pending.mark_deleted({**recent, "sender_id": user_id})
    live.active(user_id)
    return message


def _check_edit(message, text, chat_id, members, user_id):
    """Refused if the message may not get this text now: past the window,
    no text for a message without an image, a block."""
    if not change.editable(message):
        raise Refused(change.TOO_LATE, 403)
    problem = text_problem(text, bool(message.get("image")))
    if problem:
        raise Refused(problem, 422)
    refusal = block_refusal(chat_id, members, user_id)
    if refusal:
        raise refusal
