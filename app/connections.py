"""MongoDB, Redis and RabbitMQ clients: one set per process.

Created in create_app but opened on first use, so a gunicorn worker connects
after it forks, never before.
"""

import redis
from flask import current_app
from pymongo import MongoClient

from app.broker.publisher import Publisher
from app.timing import DatabaseTime

# A store that is down answers within seconds, so a page says 503 and a
# worker waits, instead of both hanging for pymongo's default 30 s.
MONGODB_TIMEOUTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 3000}


def unless_in(uri, options):
    """The options the URI does not set itself."""
    return {name: value for name, value in options.items() if name.lower() + "=" not in uri.lower()}


def init_app(app):
    listeners = [DatabaseTime()] if app.config["SERVER_TIMING"] else []
    # No retryable writes: every write is idempotent or done again when its job
    # is redelivered, and the server's per-write session bookkeeping they need
    # took a fifth of the store's time under load.
    mongo = MongoClient(
        app.config["MONGODB_URI"],
        connect=False,
        tz_aware=True,
        appname="parley",
        event_listeners=listeners,
        retryWrites=False,
        **unless_in(app.config["MONGODB_URI"], MONGODB_TIMEOUTS),
    )
    app.extensions["mongo"] = mongo.get_default_database()
    # A bounded pool that makes a busy moment wait for a connection instead of failing.
    pool = redis.BlockingConnectionPool.from_url(
        app.config["REDIS_URL"],
        decode_responses=True,
        health_check_interval=30,
        max_connections=64,
        timeout=10,
        socket_connect_timeout=3,
        socket_timeout=10,
    )
    app.extensions["redis"] = redis.Redis(connection_pool=pool)
    app.extensions["publisher"] = Publisher(app.config["RABBITMQ_URL"])


def db():
    return current_app.extensions["mongo"]


def redis_client():
    return current_app.extensions["redis"]


def publisher():
    return current_app.extensions["publisher"]


def key(*parts):
    """A Redis key in this deployment's namespace: key("otp", email) -> "parley:otp:email"."""
    return current_app.config["KEY_PREFIX"] + ":".join(str(part) for part in parts)
