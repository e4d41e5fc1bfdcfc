"""Health: GET /healthz says the process is alive and asks nothing else;
GET /readyz says whether Redis, RabbitMQ and MongoDB each answer within
CHECK_TIMEOUT seconds, and names those that do not (503). Neither needs a
session, and neither says more than a service's name and whether it
answered: why it did not (which may name hosts) goes to the log."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pymongo
from flask import Blueprint, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from app import broker, connections

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2  # seconds; a service slower than this is as good as down to a request

bp = Blueprint("health", __name__)


def redis_answers(config):
    client = connections.new_redis(
        config,
        max_connections=1,
        socket_timeout=CHECK_TIMEOUT,
        socket_connect_timeout=CHECK_TIMEOUT,
        health_check_interval=0,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    finally:
        client.close()


def rabbitmq_answers(config):
    broker.connect(config["RABBITMQ_URL"], timeout=CHECK_TIMEOUT).close()


def mongodb_answers(database):
    with pymongo.timeout(CHECK_TIMEOUT):
        database.command("ping")


def failures(app):
    """{service: the error} for each service that does not answer in time, checked side by side."""
    checks = {
        "redis": lambda: redis_answers(app.config),
        "rabbitmq": lambda: rabbitmq_answers(app.config),
        "mongodb": lambda: mongodb_answers(app.extensions["mongo"]),
    }
    with ThreadPoolExecutor(len(checks)) as pool:
        running = {service: pool.submit(check) for service, check in checks.items()}
    return {service: future.exception() for service, future in running.items() if future.exception()}


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    failed = failures(current_app._get_current_object())
    for service, error in failed.items():
        log.warning("readyz: %s did not answer: %s", service, error)
    services = {service: "failed" if service in failed else "ok" for service in ("redis", "rabbitmq", "mongodb")}
    return {"status": "failed" if failed else "ok", "services": services}, 503 if failed else 200
