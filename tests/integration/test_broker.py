"""The publisher against a real RabbitMQ: every job confirmed, and no more
connections than the moment's concurrency needs."""

import threading

import pika
import pytest

from app.broker import PublishError
from app.broker.publisher import Publisher
from tests.support.queues import queue_depth

# The worker suite: each test runs on classic and on quorum queues.
pytestmark = pytest.mark.each_queue_type


def test_sequential_jobs_share_one_connection_and_a_burst_opens_more(ns_app, namespace):
    name = namespace["QUEUE_PREFIX"] + "publisher-test"
    before = set(threading.enumerate())
    publisher = Publisher(ns_app.config["RABBITMQ_URL"], ns_app.config["QUEUE_TYPE"], connections=4)
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
    threads = [thread for thread in set(threading.enumerate()) - before if thread.name == "rabbitmq-publisher"]
    publisher.close()  # as each test's app does at its end
    for thread in threads:
        thread.join(5)
    assert publisher._threads == 0 and not any(thread.is_alive() for thread in threads)
    connection = pika.BlockingConnection(pika.URLParameters(ns_app.config["RABBITMQ_URL"]))
    connection.channel().queue_delete(name)
    connection.close()


def test_a_publish_the_broker_may_still_have_is_reported_as_such(private_rabbit):
    """The broker stops reading (a memory alarm) after the job went out: it
    may yet take it, so the sender must not be told it failed for good."""
    publisher = Publisher(private_rabbit.url, "classic", confirm_timeout=1)
    publisher.publish("blocked-test", {"n": 0})  # its connection is open
    private_rabbit.ctl("set_vm_memory_high_watermark", "0")
    try:
        with pytest.raises(PublishError) as failed:
            publisher.publish("blocked-test", {"n": 1})
        assert failed.value.maybe_queued
    finally:
        private_rabbit.ctl("set_vm_memory_high_watermark", "0.4")
    refused = Publisher("amqp://guest:guest@127.0.0.1:1/%2F", "classic", confirm_timeout=1)
    with pytest.raises(PublishError) as failed:
        refused.publish("blocked-test", {"n": 2})
    assert not failed.value.maybe_queued  # never reached a broker
