"""Jobs on the app's queues: read them, publish them, and run the chat
worker on them in the test's own process."""

import json
from types import SimpleNamespace

import pika

from app import broker
from app.broker.consumer import Delivery


def _channel(url):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    return connection, connection.channel()


def name_of(app, queue):
    with app.app_context():
        return broker.queue_name(queue)


def take_jobs(app, queue):
    """Take every job waiting on one of the app's queues (as a worker would), as raw bodies."""
    name = name_of(app, queue)
    connection, channel = _channel(app.config["RABBITMQ_URL"])
    broker.declare(channel, name, app.config["QUEUE_TYPE"])
    bodies = []
    while True:
        method, _, body = channel.basic_get(name, auto_ack=True)
        if method is None:
            break
        bodies.append(body)
    connection.close()
    return bodies


def queued_jobs(app, queue):
    """Take every job waiting on one of the app's queues, parsed."""
    return [json.loads(body) for body in take_jobs(app, queue)]


def publish(app, queue, *payloads):
    """Queue jobs (dicts, or raw bytes) on one of the app's queues."""
    name = name_of(app, queue)
    connection, channel = _channel(app.config["RABBITMQ_URL"])
    broker.declare(channel, name, app.config["QUEUE_TYPE"])
    channel.confirm_delivery()
    for payload in payloads:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        channel.basic_publish("", name, body, pika.BasicProperties(delivery_mode=2))
    connection.close()


def dead_letters(app, queue):
    """Take the dead-lettered jobs of one of the app's queues: [(headers, body)]."""
    name = broker.dead_letter_queue(name_of(app, queue))
    connection, channel = _channel(app.config["RABBITMQ_URL"])
    channel.queue_declare(name, durable=True, arguments={"x-queue-type": app.config["QUEUE_TYPE"]})
    found = []
    while True:
        method, properties, body = channel.basic_get(name, auto_ack=True)
        if method is None:
            break
        found.append((properties.headers or {}, body))
    connection.close()
    return found


def queue_depth(app, queue):
    connection, channel = _channel(app.config["RABBITMQ_URL"])
    try:
        return channel.queue_declare(name_of(app, queue), passive=True).method.message_count
    finally:
        connection.close()


def delivery(payload, redelivered=False, tag=1):
    """A delivery as the consumer hands it to a worker."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Delivery(SimpleNamespace(delivery_tag=tag, redelivered=redelivered), None, body)


def run_chat_worker(app):
    """Deliver what is queued on chat:messages, in this process, as one batch
    (as the chat worker would); returns the failures by delivery."""
    from workers import chat

    deliveries = [delivery(body, tag=n) for n, body in enumerate(take_jobs(app, broker.CHAT_MESSAGES), start=1)]
    with app.test_request_context():
        return chat.handle(deliveries) if deliveries else {}


def code_in(job):
    return job["values"]["code"]


def code_job(to, code="123456"):
    """A sign-in code's job, as the sign-in form queues it on send-otp."""
    return {"to": to, "template": "signin_code", "values": {"code": code, "minutes": 5}}


def run_notify_worker(app):
    """One round of the notify worker in this process: run the checks due
    now (by the app's clock); returns the checks that were due."""
    from app import letters
    from app.notifications import scheduler

    with letters.for_public_url(app):
        worker = scheduler.Scheduler(app)
        worker.epoch = 0  # a fresh worker recovers first; these rounds are about the checks
        return worker.round()


def run_mail_worker(app, queue="send-mail"):
    """Send what is queued on a mail queue, in this process, to the app's
    SMTP server (as the mail worker would); returns the failures by delivery."""
    from app import letters
    from workers import mail

    deliveries = [delivery(body, tag=n) for n, body in enumerate(take_jobs(app, queue), start=1)]
    with letters.for_public_url(app):
        return mail.sender_for(queue)(deliveries) if deliveries else {}


def consume_mail(app, queue):
    """Work what is queued on a mail queue through the mail worker's own
    consumer, in this process: each job sent to the app's SMTP server and
    acked, or dead-lettered or queued for a retry, as the worker would."""
    from app import letters
    from app.broker.consumer import Consumer
    from workers import mail

    name = name_of(app, queue)
    connection, channel = _channel(app.config["RABBITMQ_URL"])
    channel.confirm_delivery()  # as the worker's: for retries and dead letters
    broker.declare(channel, name, app.config["QUEUE_TYPE"])
    batch = []
    while (got := channel.basic_get(name))[0] is not None:
        batch.append(Delivery(*got))
    with letters.for_public_url(app), app.app_context():
        if batch:
            Consumer(app, queue, mail.sender_for(queue), prefetch=len(batch)).work(channel, batch)
    connection.close()
    return len(batch)


def missed_job(to, key, text="Are you there?", user_id="0" * 24):
    """A missed-message email's job, as the notify worker queues it on send-mail."""
    values = {
        "name": "Bob",
        "user_id": user_id,
        "time_zone": None,
        "text": True,
        "chats": [
            {
                "chat_id": "1" * 24,
                "from": "Ada Lovelace",
                "count": 1,
                "messages": [{"at": "2026-12-01T10:00:00+00:00", "text": text, "image": None}],
            }
        ],
        "more_chats": 0,
        "more_messages": 0,
    }
    return {"to": to, "template": "missed_messages", "values": values, "key": key}
