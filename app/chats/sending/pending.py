"""The web side of a send: the jobs a sender has on their way, kept in Redis
until the worker has saved them, so that a reloaded page (or one without
JavaScript) still shows them "Sending". A job the broker may not have is
marked unconfirmed: its page shows it "Not sent", with Retry and Delete."""

import json
import logging
from datetime import datetime

from app import broker
from app.broker.consumer import Reject
from app.chats.sending.job import Job
from app.connections import key, redis_client
from app.data import chats

log = logging.getLogger(__name__)

PENDING_TTL = 24 * 3600


def pending_key(chat_id, sender_id):
    return key("pending", chat_id, sender_id)


def unconfirmed_key(chat_id, sender_id):
    return key("unconfirmed", chat_id, sender_id)


class Refused(Exception):
    """The send cannot be accepted as it is; the message says why, to its sender."""

    def __init__(self, message, status=422):
        super().__init__(message)
        self.status = status


def clients_key(sender_id):
    """Which chat each of a sender's recent client_ids is for: one, as the
    worker stores it once per sender. Each value is "CHAT_ID SENT_AT",
    and " deleted" once its sender deleted it, so that an edit or a delete
    knows its author and the message's age without reading MongoDB."""
    return key("clients", sender_id)


CLIENTS_KEPT = 10_000  # past this many in a day the record starts again (the worker still refuses a reuse)


def accept(job):
    """Keep the job as pending and queue it. False if this client_id is
    already on its way (a double submit). Refused if the worker would not
    take the job (checked with its own definition), or the client_id is one
    the sender used in another chat (it would never be stored: acknowledged,
    then lost). PublishError if the broker does not confirm it: then nothing
    of it is kept, unless the broker may have it after all (`maybe_queued`),
    when it stays pending, marked unconfirmed, and a second try queues it
    again (the worker saves a client_id once)."""
    try:
        job.checked()
    except Reject as problem:
        log.warning("refused a send the worker would reject: %s", problem)
        raise Refused("This message could not be sent as it is. Reload the page and try again.") from None
    name, unconfirmed = pending_key(job.chat_id, job.sender_id), unconfirmed_key(job.chat_id, job.sender_id)
    clients = clients_key(job.sender_id)
    pipe = redis_client().pipeline(transaction=False)
    pipe.hsetnx(clients, job.client_id, f"{job.chat_id} {job.sent_at.isoformat(timespec='milliseconds')}")
    pipe.hget(clients, job.client_id)
    pipe.expire(clients, PENDING_TTL)
    pipe.hlen(clients)
    pipe.hsetnx(name, job.client_id, json.dumps(job.fields()))
    pipe.expire(name, PENDING_TTL)
    pipe.sismember(unconfirmed, job.client_id)
    _, claimed_for, _, kept, added, _, retried = pipe.execute()
    if kept > CLIENTS_KEPT:
        redis_client().delete(clients)
    if (claimed_for or "").split(" ", 1)[0] != str(job.chat_id):
        if added:
            redis_client().hdel(name, job.client_id)
        raise Refused("This form was used for another chat. Reload the page and send it again.", 409)
    if not (added or retried):
        return False
    try:
        broker.publish(broker.CHAT_MESSAGES, job.fields())
    except broker.PublishError as error:
        pipe = redis_client().pipeline(transaction=False)
        if error.maybe_queued or retried:  # an earlier try, or this one, may be queued
            pipe.sadd(unconfirmed, job.client_id)
            pipe.expire(unconfirmed, PENDING_TTL)
        else:
            pipe.hdel(name, job.client_id)
            pipe.srem(unconfirmed, job.client_id)
        pipe.execute()
        raise
    if retried:
        redis_client().srem(unconfirmed, job.client_id)
    return True


def ask_sent_recently(pipe, chat_id, sender_id, client_id):
    """What the sender's record of recent sends says of this message of
    theirs in this chat, queued on `pipe`: returns what reads, from the
    pipeline's replies, {client_id, chat_id, created_at, deleted_at}, or
    None when it has no word of it (sent over a day ago, by someone else,
    or the record was lost): then MongoDB is asked."""
    start = len(pipe)
    pipe.hget(clients_key(sender_id), client_id)
    return lambda replies: _sent(replies[start], chat_id, client_id)


def _sent(found, chat_id, client_id):
    parts = found.split(" ") if found else []
    if len(parts) < 2 or parts[0] != str(chat_id):
        return None
    try:
        sent_at = datetime.fromisoformat(parts[1])
    except ValueError:
        return None
    deleted = len(parts) > 2 and parts[2] == "deleted"
    deleted_at = sent_at if deleted else None
    return {"client_id": client_id, "chat_id": chat_id, "created_at": sent_at, "deleted_at": deleted_at}


def mark_deleted(message):
    """The sender deleted this message (as ask_sent_recently found it): a
    second delete or an edit is refused at once."""
    record = f"{message['chat_id']} {message['created_at'].isoformat(timespec='milliseconds')} deleted"
    redis_client().hset(clients_key(message["sender_id"]), message["client_id"], record)


def is_pending(chat_id, sender_id, client_id):
    """The send is on its way: accepted, not yet saved by the worker."""
    return bool(redis_client().hexists(pending_key(chat_id, sender_id), client_id))


def job(chat_id, sender_id, client_id):
    """The sender's pending job with this client_id, or None."""
    fields = redis_client().hget(pending_key(chat_id, sender_id), client_id)
    return Job.from_json(fields) if fields else None


def unconfirmed(chat_id, sender_id, client_id):
    """The sender's pending job that the broker may not have (shown "Not sent"), or None."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.hget(pending_key(chat_id, sender_id), client_id)
    pipe.sismember(unconfirmed_key(chat_id, sender_id), client_id)
    fields, maybe_lost = pipe.execute()
    return Job.from_json(fields) if fields and maybe_lost else None


def discard(job, pipe=None):
    """The job is pending no longer: the worker saved it, or its sender
    deleted it while it showed "Not sent" (if the broker had it after all,
    the worker still delivers it). With `pipe`, queued on it for the caller."""
    own = pipe is None
    pipe = redis_client().pipeline(transaction=False) if own else pipe
    pipe.hdel(pending_key(job.chat_id, job.sender_id), job.client_id)
    pipe.srem(unconfirmed_key(job.chat_id, job.sender_id), job.client_id)
    if own:
        pipe.execute()


def messages(chat_id, sender_id, receiver_id):
    """The sender's pending jobs in this chat as message documents, for their
    chat page; one the broker may not have is marked `unconfirmed`."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.hvals(pending_key(chat_id, sender_id))
    pipe.smembers(unconfirmed_key(chat_id, sender_id))
    jobs, unconfirmed = pipe.execute()
    found = []
    for fields in jobs:
        message = Job.from_json(fields).message(receiver_id)
        if message["client_id"] in unconfirmed:
            message["unconfirmed"] = True
        found.append(message)
    return found


def forget(user_id):
    """The account is going: none of its sends is pending any more."""
    names = [name(chat_id, user_id) for chat_id in chats.ids_of(user_id) for name in (pending_key, unconfirmed_key)]
    redis_client().delete(clients_key(user_id), *names)
