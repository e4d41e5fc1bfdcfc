"""MongoDB, Redis and RabbitMQ clients: one set per process.

Created in create_app but opened on first use, so a gunicorn worker connects
after it forks, never before.
"""

import redis
from flask import current_app
from pymongo import MongoClient
from redis.cluster import RedisCluster

from app.broker.publisher import Publisher
from app.timing import DatabaseTime
from config import DEFAULT_DATABASE

# A store that is down answers within seconds, so a page says 503 and a
# worker waits, instead of both hanging for pymongo's default 30 s.
MONGODB_TIMEOUTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 3000}


def unless_in(uri, options):
    """The options the URI does not set itself."""
    return {name: value for name, value in options.items() if name.lower() + "=" not in uri.lower()}


def init_app(app):
    config = app.config
    listeners = [DatabaseTime()] if config["SERVER_TIMING"] else []
    mongo = MongoClient(
        config["MONGODB_URI"],
        connect=False,
        tz_aware=True,
        appname="parley",
        event_listeners=listeners,
        # On in production, so a replica-set election does not fail writes.
        # The benchmark turns them off: see README "Deploying" for why.
        retryWrites=config["MONGODB_RETRY_WRITES"],
        **unless_in(config["MONGODB_URI"], MONGODB_TIMEOUTS),
    )
    app.extensions["mongo"] = mongo.get_default_database(DEFAULT_DATABASE)
    app.extensions["redis"] = new_redis(config, max_connections=config["REDIS_POOL_SIZE"])
    app.extensions["publisher"] = Publisher(config["RABBITMQ_URL"], config["QUEUE_TYPE"])


def close(app):
    """Close an app's clients: MongoDB's, the Redis pool and the publishing
    threads. A process's clients last as long as it does; an app that ends
    before its process (each test's) closes them."""
    app.extensions["mongo"].client.close()
    app.extensions["redis"].close()
    app.extensions["publisher"].close()


def redis_options(config):
    """redis-py's options for REDIS_URL: how a rediss:// certificate is checked."""
    verify = config["REDIS_TLS_VERIFY"]
    if not config["REDIS_URL"].startswith("rediss"):
        return {}
    if verify == "none":  # add-ons with self-signed certificates
        return {"ssl_cert_reqs": "none", "ssl_check_hostname": False}
    if verify == "required":
        return {"ssl_cert_reqs": "required"}
    return {"ssl_cert_reqs": "required", "ssl_ca_certs": verify}


def new_redis(config, max_connections, **options):
    """A client for REDIS_URL with at most `max_connections` (per node, for a
    cluster), where a busy moment waits for a connection instead of failing,
    and a Redis that is down is noticed within seconds. redis+cluster:// and
    rediss+cluster:// URLs get a Redis Cluster client."""
    url = config["REDIS_URL"]
    options = {
        "decode_responses": True,
        "health_check_interval": 30,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        **redis_options(config),
        **options,
    }
    scheme, _, rest = url.partition("://")
    if scheme.endswith("+cluster"):
        return RedisCluster.from_url(
            scheme.removesuffix("+cluster") + "://" + rest,
            max_connections=max_connections,
            connection_pool_class=redis.BlockingConnectionPool,
            **options,
        )
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10, **options)
    return redis.Redis(connection_pool=pool)


def db():
    return current_app.extensions["mongo"]


def redis_client():
    return current_app.extensions["redis"]


def publisher():
    return current_app.extensions["publisher"]


def key(*parts):
    """A Redis key in this deployment's namespace: key("otp", email) -> "parley:otp:email"."""
    return current_app.config["KEY_PREFIX"] + ":".join(str(part) for part in parts)
