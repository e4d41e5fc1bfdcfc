"""RabbitMQ: Parley's durable queues, each with a dead-letter queue
beside it. Web processes publish (publisher.py) and wait for the broker's
confirm; workers consume (consumer.py) and ack after the work."""

import pika
from flask import current_app

SEND_OTP = "send-otp"  # sign-in codes, on a queue of their own so nothing holds them up
SEND_MAIL = "send-mail"  # every other email (missed messages)
CHAT_MESSAGES = "chat:messages"
QUEUES = (SEND_OTP, SEND_MAIL, CHAT_MESSAGES)


class PublishError(Exception):
    """The broker did not confirm the job. With `maybe_queued`, it may still
    have it (the connection went after the job was sent): the job must be
    kept as sent, and a second try must be harmless."""

    def __init__(self, message, maybe_queued=False):
        super().__init__(message)
        self.maybe_queued = maybe_queued


def queue_name(name):
    """The queue's name in this deployment's namespace."""
    return current_app.config["QUEUE_PREFIX"] + name


def publish(name, payload):
    """Queue a job (a JSON-able dict) on one of Parley's queues; raises
    PublishError if the broker does not confirm it."""
    current_app.extensions["publisher"].publish(queue_name(name), payload)


def dead_letter_queue(name):
    return name + ".dead"


def retry_queue(name):
    """Where a job waits before it is tried again: the broker hands it back
    to `name` when its delay (the message's expiration) has passed."""
    return name + ".retry"


def connect(url, heartbeat=30, timeout=3):
    params = pika.URLParameters(url)
    params.heartbeat = heartbeat
    params.connection_attempts = 1
    params.socket_timeout = timeout
    params.blocked_connection_timeout = 5
    return pika.BlockingConnection(params)


def declare(channel, name, queue_type):
    """Both queues are durable, each with a dead-letter queue and a retry
    queue beside it, all of QUEUE_TYPE: quorum (replicated across a
    cluster's nodes) or classic."""
    of_type = {"x-queue-type": queue_type}
    channel.queue_declare(name, durable=True, arguments=of_type)
    channel.queue_declare(dead_letter_queue(name), durable=True, arguments=of_type)
    back = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name}
    channel.queue_declare(retry_queue(name), durable=True, arguments={**back, **of_type})
