"""`flask dead-letters list|show|replay|drop`: the jobs a worker gave up on,
parked on `<queue>.dead` with their reason (see app/broker/consumer.py).

A dead letter is known by an id made from its content (the first 12 hex
digits of the SHA-256 of its body), which stays the same however the queue
is read: RabbitMQ has no way to address one message in a queue, so each
command reads the dead-letter queue without acking, acts on the letters it
names, and puts the rest back.
"""

import hashlib
import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import click
import pika
from flask import current_app
from flask.cli import AppGroup

from app import broker

QUEUES = broker.QUEUES
READ_AT_MOST = 10_000  # letters read in one command


@dataclass
class Letter:
    queue: str
    tag: int
    reason: str
    properties: pika.BasicProperties
    body: bytes

    @property
    def id(self):
        return hashlib.sha256(self.body).hexdigest()[:12]


class DeadLetterQueue:
    """One queue's dead letters, read (not taken) on a channel of its own:
    what is neither acked nor replayed goes back when it closes."""

    def __init__(self, connection, queue):
        self.queue = queue
        self.name = broker.dead_letter_queue(broker.queue_name(queue))
        self.channel = connection.channel()
        self.channel.confirm_delivery()
        broker.declare(self.channel, broker.queue_name(queue), current_app.config["QUEUE_TYPE"])

    def letters(self):
        found = []
        while len(found) < READ_AT_MOST:
            method, properties, body = self.channel.basic_get(self.name, auto_ack=False)
            if method is None:
                break
            reason = (properties.headers or {}).get("x-parley-reason", "(no reason given)")
            found.append(Letter(self.queue, method.delivery_tag, str(reason), properties, body))
        return found

    def replay(self, letter):
        """Queue the job again where it came from, then forget the dead letter."""
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent, content_type=letter.properties.content_type
        )
        self.channel.basic_publish("", broker.queue_name(self.queue), letter.body, properties, mandatory=True)
        self.drop(letter)

    def drop(self, letter):
        self.channel.basic_ack(letter.tag)


def queues_option(function):
    return click.option(
        "--queue",
        "queues",
        type=click.Choice(QUEUES),
        multiple=True,
        help="Only this queue's dead letters (default: both queues).",
    )(function)


@contextmanager
def reading(queues):
    """[(its DeadLetterQueue, letter)] for every dead letter of `queues` (default: both)."""
    connection = broker.connect(current_app.config["RABBITMQ_URL"])
    try:
        found = []
        for queue in queues or QUEUES:
            dead = DeadLetterQueue(connection, queue)
            found += [(dead, letter) for letter in dead.letters()]
        yield found
    finally:
        if connection.is_open:
            connection.close()  # what was not acked goes back to its queue


def chosen(found, ids, every=False):
    """The found letters with these ids (or every one); refuses, before anything is done, an id not found."""
    missing = sorted(set(ids) - {letter.id for _, letter in found})
    if missing:
        sys.exit(f"No dead letter with id {', '.join(missing)}; `flask dead-letters list` shows them.")
    return [(dead, letter) for dead, letter in found if every or letter.id in ids]


def describe(letter):
    return f"{letter.id}  {letter.queue:<13}  {len(letter.body):>6} bytes  {letter.reason}"


@click.group("dead-letters", cls=AppGroup)
def group():
    """Look at, replay or drop the jobs the workers dead-lettered."""


@group.command("list")
@queues_option
def list_letters(queues):
    """List dead letters: id, queue, size and reason."""
    with reading(queues) as found:
        for _, letter in found:
            click.echo(describe(letter))
        click.echo(f"{len(found)} dead letter(s).")


@group.command("show")
@click.argument("ids", nargs=-1, required=True)
@queues_option
def show(ids, queues):
    """Show dead letters in full: reason, headers and the job itself."""
    with reading(queues) as found:
        for _, letter in chosen(found, ids):
            click.echo(describe(letter))
            click.echo(f"headers: {json.dumps(letter.properties.headers or {}, default=str)}")
            try:
                click.echo(json.dumps(json.loads(letter.body), indent=2, ensure_ascii=False))
            except ValueError:
                click.echo(repr(letter.body))


def acting_on(verb, done, act, help):
    @group.command(verb, help=help)
    @click.argument("ids", nargs=-1)
    @click.option("--all", "every", is_flag=True, help=f"{verb.capitalize()} every dead letter.")
    @queues_option
    def command(ids, every, queues):
        if not ids and not every:
            sys.exit(f"Name the dead letters to {verb} by id (`flask dead-letters list` shows them), or give --all.")
        with reading(queues) as found:
            letters = chosen(found, ids, every)
            for dead, letter in letters:
                act(dead, letter)
        click.echo(f"{done} {len(letters)} dead letter(s).")

    return command


replay = acting_on(
    "replay", "Replayed", DeadLetterQueue.replay, "Queue dead letters again where they came from (once fixed)."
)
drop = acting_on("drop", "Dropped", DeadLetterQueue.drop, "Delete dead letters for good.")
