"""Telling a service's failure from a failure of the work itself.

Parley depends on Redis, MongoDB and RabbitMQ. When one of them fails —
its connection drops or times out, or it answers with an error such as
Redis's OOM, READONLY, LOADING or MASTERDOWN, or MongoDB's
NotWritablePrimary — the work was fine and can be done again once the
service is back: a worker keeps the job and waits, a page answers 503.
Everything else (a job that fails its own checks, a bug) is the work's.
"""

import pika.exceptions
import pymongo.errors
import redis.exceptions

MESSAGE = "Parley can't reach its services right now. Try again in a moment."
RETRY_AFTER = 5  # seconds, for the 503's Retry-After

# What a client library raises for what we gave it, not for what the service did.
_OURS = (
    redis.exceptions.DataError,
    pymongo.errors.InvalidOperation,
    pymongo.errors.DocumentTooLarge,
    pymongo.errors.InvalidName,
    pymongo.errors.InvalidURI,
)


def is_outage(error):
    """True when `error` says a service failed, rather than the work."""
    if isinstance(error, _OURS):
        return False
    return isinstance(
        error,
        (
            redis.exceptions.RedisError,  # connection, timeout and every error reply
            pymongo.errors.PyMongoError,  # connection, selection, not-primary, write concern
            pika.exceptions.AMQPError,
            OSError,  # sockets and name lookups, under any library
        ),
    )
