"""Presence: who has a live connection, told to their contacts only.

Each connection is a member of its user's sorted set, scored by when it
expires; the web process that holds it renews it every HEARTBEAT seconds. A
user is online while any connection is fresh. When the last one closes, the
user's contacts hear "offline" after a short grace (a reload is not a
departure); when a web process dies, its connections simply expire and
another process's sweep reports those users offline.
"""

import time

from bson import ObjectId
from flask import render_template

from app.connections import key, redis_client
from app.data import chats, users
from app.realtime.push import Outbox

CONNECTION_TTL = 15  # seconds
HEARTBEAT = 5
OFFLINE_GRACE = 2


def connections_key(user_id):
    return key("presence", user_id)


def expiring_key():
    """Users with connections, scored by when their freshest one expires: the sweep's to-do list."""
    return key("presence-expiring")


def online(user_ids):
    """The subset of `user_ids` that is online now."""
    user_ids = list(user_ids)
    if not user_ids:
        return set()
    pipe = redis_client().pipeline(transaction=False)
    now = time.time()
    for user_id in user_ids:
        pipe.zcount(connections_key(user_id), now, "+inf")
    return {user_id for user_id, count in zip(user_ids, pipe.execute()) if count}


def _live_count(pipe, user_id, now):
    pipe.zcount(connections_key(user_id), now, "+inf")


def connect(user_id, connection_id):
    """Record a connection; True if it makes the user online (their only live one)."""
    now = time.time()
    pipe = redis_client().pipeline(transaction=True)
    pipe.zadd(connections_key(user_id), {connection_id: now + CONNECTION_TTL})
    pipe.expire(connections_key(user_id), CONNECTION_TTL)
    pipe.zadd(expiring_key(), {str(user_id): now + CONNECTION_TTL}, gt=True)
    _live_count(pipe, user_id, now)
    return pipe.execute()[-1] == 1


def disconnect(user_id, connection_id):
    """Forget a connection; True if the user has no live connection left."""
    now = time.time()
    pipe = redis_client().pipeline(transaction=True)
    pipe.zrem(connections_key(user_id), connection_id)
    _live_count(pipe, user_id, now)
    return pipe.execute()[-1] == 0


def still_offline(user_id):
    return user_id not in online([user_id])


def renew(connections):
    """The heartbeat: keep these (user_id, connection_id) pairs fresh, in one round trip."""
    if not connections:
        return
    expires = time.time() + CONNECTION_TTL
    pipe = redis_client().pipeline(transaction=False)
    for user_id, connection_id in connections:
        pipe.zadd(connections_key(user_id), {connection_id: expires})
        pipe.expire(connections_key(user_id), CONNECTION_TTL)
        pipe.zadd(expiring_key(), {str(user_id): expires}, gt=True)
    pipe.execute()


def sweep():
    """Users whose every connection expired without closing (their web
    process died); each is claimed by exactly one sweeping process."""
    client = redis_client()
    now = time.time()
    gone = []
    for user_id in client.zrangebyscore(expiring_key(), "-inf", now, start=0, num=500):
        if client.zcount(connections_key(user_id), now, "+inf") == 0 and client.zrem(expiring_key(), user_id):
            gone.append(user_id)
    return gone


def went_offline(user_id):
    """Remember when they were last seen, and tell their contacts."""
    user_id = ObjectId(str(user_id))
    redis_client().zrem(expiring_key(), str(user_id))
    users.set_last_seen(user_id)
    tell_contacts(user_id, False)


def tell_contacts(user_id, is_online):
    """Push the new status to the people `user_id` chats with, and nobody else."""
    person = users.get(user_id) if not is_online else {"_id": user_id, "last_seen_at": None}
    html = render_template("chats/_presence_update.html", person=person, online=is_online)
    outbox = Outbox()
    for contact in chats.contacts(user_id):
        outbox.add(contact, html, replayable=False)
    outbox.send()


def snapshot(user_id):
    """Push to `user_id`'s new connection the current status of their contacts."""
    contacts = chats.contacts(user_id)
    live = online(contacts)
    people = users.presence_details([contact for contact in contacts if contact not in live])
    parts = [
        render_template(
            "chats/_presence_update.html", person=people.get(contact, {"_id": contact}), online=contact in live
        )
        for contact in contacts
    ]
    return "".join(parts)
