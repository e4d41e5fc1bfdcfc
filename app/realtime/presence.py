"""Presence: who has a live connection.

Each connection is a member of its user's sorted set, scored by when it
expires; the web process that holds it refreshes the score on a heartbeat.
So a user is online while any connection is fresh, and a crashed process
leaves no one online for longer than CONNECTION_TTL.
"""

import time

from app.connections import key, redis_client

CONNECTION_TTL = 30  # seconds; heartbeats come every HEARTBEAT seconds
HEARTBEAT = 10


def connections_key(user_id):
    return key("presence", user_id)


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
