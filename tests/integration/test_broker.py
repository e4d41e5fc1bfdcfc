"""The publisher against a real RabbitMQ: every job confirmed, and no more
connections than the moment's concurrency needs."""

import threading

import pika

from app.broker.publisher import Publisher
from tests.support.queues import queue_depth


def test_sequential_jobs_share_one_connection_and_a_burst_opens_more(ns_app, namespace):
    name = namespace["QUEUE_PREFIX"] + "publisher-test"
    publisher = Publisher(ns_app.config["RABBITMQ_URL"], connections=4)
    for n in range(5):
        publisher.publish(name, {"n": n})
    assert publisher._threads == 1

    failures = []

    def publish(n):
        try:
            publisher.publish(name, {"n": n})
        except Exception as error:
            failures.append(error)

    burst = [threading.Thread(target=publish, args=(n,)) for n in range(5, 45)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join()
    assert not failures
    assert 1 < publisher._threads <= 4
    assert queue_depth(ns_app, "publisher-test") == 45
    connection = pika.BlockingConnection(pika.URLParameters(ns_app.config["RABBITMQ_URL"]))
    connection.channel().queue_delete(name)
    connection.close()
