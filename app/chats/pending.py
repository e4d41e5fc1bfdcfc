"""Messages accepted but not yet saved by the chat worker, kept in Redis per
(chat, sender) so a reloaded page, or a page without JavaScript, still shows
them as "Sending". Adding one also tells a double submit from a new message."""

import json

from app.connections import key, redis_client

PENDING_TTL = 24 * 3600


def pending_key(chat_id, sender_id):
    return key("pending", chat_id, sender_id)


def add(job):
    """Record the job; False if this client_id is already on its way."""
    name = pending_key(job["chat_id"], job["sender_id"])
    pipe = redis_client().pipeline(transaction=False)
    pipe.hsetnx(name, job["client_id"], json.dumps(job))
    pipe.expire(name, PENDING_TTL)
    added, _ = pipe.execute()
    return bool(added)


def remove(chat_id, sender_id, client_id, pipe=None):
    (pipe or redis_client()).hdel(pending_key(chat_id, sender_id), client_id)


def jobs(chat_id, sender_id):
    return [json.loads(job) for job in redis_client().hvals(pending_key(chat_id, sender_id))]
