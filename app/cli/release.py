"""`flask release`, the Procfile's release step: checks that Redis, RabbitMQ
and MongoDB answer, declares the queues (of QUEUE_TYPE), creates the
MongoDB indexes and, on a deploy from before there was one, fills the
people directory. Safe to repeat. A failure stops the deploy with one line
saying which service, and why."""

import sys

import click
import pika
from flask import current_app
from flask.cli import with_appcontext

from app import broker, health
from app.data import directory, indexes

SETTINGS = {"redis": "REDIS_URL, REDIS_TLS_VERIFY", "rabbitmq": "RABBITMQ_URL", "mongodb": "MONGODB_URI"}


@click.command("release")
@with_appcontext
def release():
    """Check the services, declare the queues and create the indexes (safe to repeat)."""
    app = current_app._get_current_object()
    failed = health.failures(app)
    if failed:
        reasons = "; ".join(f"{name} ({SETTINGS[name]}) did not answer: {error}" for name, error in failed.items())
        sys.exit(f"Parley cannot start: {reasons}")
    connection = broker.connect(app.config["RABBITMQ_URL"])
    try:
        channel = connection.channel()
        for name in broker.QUEUES:
            broker.declare(channel, broker.queue_name(name), app.config["QUEUE_TYPE"])
    except pika.exceptions.ChannelClosedByBroker as error:
        sys.exit(f"Parley cannot start: {error.reply_text} (see README, 'Moving to quorum queues')")
    finally:
        if connection.is_open:
            connection.close()
    indexes.create_all()
    listed = directory.build()
    if listed:
        click.echo(f"Listed {listed} people in the directory.")
    click.echo(f"Redis, RabbitMQ and MongoDB answer; {app.config['QUEUE_TYPE']} queues and indexes are in place.")
