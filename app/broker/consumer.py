"""The consuming loop both workers share, and how a job says it failed.

Manual acks after the work is done, a bounded prefetch, and deliveries handed
to the worker in batches (whatever arrived together). A job that can never
succeed is dead-lettered with its reason; a passing failure (SMTP down) is
retried after a pause; losing the broker, or a store the work needs, means
reconnecting with backoff while unacked jobs go back to the queue.
"""

import json
import logging
import signal
import time

import pika
import pymongo.errors
import redis.exceptions

from app import broker

log = logging.getLogger(__name__)

# Failures of the services around us: retry later, never blame the job.
OUTAGES = (
    pika.exceptions.AMQPError,
    pymongo.errors.ConnectionFailure,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)
MAX_BACKOFF = 30


class Reject(Exception):
    """The job is malformed or refers to nothing: dead-letter it with this reason."""


class Retry(Exception):
    """The job is fine but cannot be done now (say, SMTP is down): try it again later."""


def json_object(body):
    """The JSON object a job's body holds; Reject if it holds anything else."""
    try:
        fields = json.loads(body)
    except ValueError:
        raise Reject("not JSON") from None
    if not isinstance(fields, dict):
        raise Reject("not a JSON object")
    return fields


class Delivery:
    def __init__(self, method, properties, body):
        self.tag = method.delivery_tag
        self.redelivered = method.redelivered
        self.properties = properties
        self.body = body


class Consumer:
    """Consume `queue` (a base name, namespaced here), calling
    `handle(deliveries)` in the app context. `handle` returns
    {delivery: Reject|Retry} for the deliveries it did not complete."""

    def __init__(self, app, queue, handle, prefetch):
        self.app = app
        self.queue = queue
        self.handle = handle
        self.prefetch = prefetch
        self.stopping = False
        self.received = []
        self.retry_pause = 1

    def stop(self, *_):
        self.stopping = True

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        backoff = 0.5
        with self.app.app_context():
            name = broker.queue_name(self.queue)
            while not self.stopping:
                try:
                    self.consume(name)
                except OUTAGES as error:
                    log.warning("%s: %r; reconnecting in %.1fs", name, error, backoff)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                else:
                    backoff = 0.5

    def consume(self, name):
        connection = broker.connect(self.app.config["RABBITMQ_URL"])
        try:
            channel = connection.channel()
            channel.confirm_delivery()  # for dead letters
            broker.declare(channel, name)
            channel.basic_qos(prefetch_count=self.prefetch)
            channel.basic_consume(name, self.on_message)
            log.info("consuming %s", name)
            while not self.stopping:
                connection.process_data_events(time_limit=1)
                if self.received:
                    batch, self.received = self.received, []
                    self.work(channel, batch)
        finally:
            self.received = []  # unacked: the broker requeues them when we go
            if connection.is_open:
                connection.close()

    def on_message(self, channel, method, properties, body):
        self.received.append(Delivery(method, properties, body))

    def work(self, channel, batch):
        failures = self.handle(batch)
        if not failures:  # the usual case: one ack for the whole batch
            channel.basic_ack(batch[-1].tag, multiple=True)
            self.retry_pause = 1
            return
        for delivery in batch:
            failure = failures.get(delivery)
            if failure is None:
                channel.basic_ack(delivery.tag)
            elif isinstance(failure, Reject):
                self.dead_letter(channel, delivery, str(failure))
            else:
                channel.basic_nack(delivery.tag, requeue=True)
        retries = [failure for failure in failures.values() if isinstance(failure, Retry)]
        if retries:  # pause before the requeued jobs come back, longer each time in a row
            log.warning("retrying %d job(s) in %ss: %s", len(retries), self.retry_pause, retries[0])
            channel.connection.sleep(self.retry_pause)
            self.retry_pause = min(self.retry_pause * 2, MAX_BACKOFF)
        else:
            self.retry_pause = 1

    def dead_letter(self, channel, delivery, reason):
        """Park the job on the dead-letter queue with its reason, then drop it here."""
        log.error("dead-lettering a job: %s", reason)
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=delivery.properties.content_type,
            headers={"x-parley-reason": reason, "x-parley-queue": self.queue},
        )
        channel.basic_publish("", broker.dead_letter_queue(broker.queue_name(self.queue)), delivery.body, properties)
        channel.basic_ack(delivery.tag)


def configure_logging(worker):
    logging.basicConfig(level=logging.INFO, format=f"{worker} %(levelname)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)


def run_each(handle_one):
    """Adapt a one-job handler to `handle(deliveries)`: a job that raises a
    bug (not an outage) is retried once, then dead-lettered."""

    def handle(deliveries):
        failures = {}
        for delivery in deliveries:
            try:
                handle_one(delivery)
            except (Reject, Retry) as failure:
                failures[delivery] = failure
            except OUTAGES:
                raise
            except Exception as error:
                log.exception("job failed")
                failures[delivery] = Reject(f"failed twice: {error!r}") if delivery.redelivered else Retry(repr(error))
        return failures

    return handle


def in_batches(parse, work):
    """Adapt `parse(delivery)` (Reject for a bad job) and `work(jobs)` to
    `handle(deliveries)`: the good jobs are done as one batch; if the batch
    fails for a reason other than an outage, they are done one by one to
    find the job at fault."""
    one_by_one = run_each(lambda delivery: work([parse(delivery)]))

    def handle(deliveries):
        failures, jobs = {}, []
        for delivery in deliveries:
            try:
                jobs.append((delivery, parse(delivery)))
            except Reject as reason:
                failures[delivery] = reason
        if not jobs:
            return failures
        try:
            work([job for _, job in jobs])
        except OUTAGES:
            raise
        except Exception:
            log.exception("a batch of %d failed; retrying one by one", len(jobs))
            failures.update(one_by_one([delivery for delivery, _ in jobs]))
        return failures

    return handle
