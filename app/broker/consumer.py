"""The consuming loop both workers share, and how a job says it failed.

Manual acks after the work is done, a bounded prefetch, and deliveries handed
to the worker in batches (whatever arrived together). Three kinds of failure,
told apart by what was raised:

- Reject: the job itself is bad (it fails its own checks, names no chat, its
  sender is not a member). Raised only by the workers' parsing; the job is
  dead-lettered with its reason and never tried again.
- An outage (app/outages.py): Redis, MongoDB or RabbitMQ failed in any way,
  a dropped connection, a timeout or an error reply. The job is not to
  blame: nothing is acked, the connection is closed so the broker hands the
  jobs out again, and the worker waits (backing off, and starting afresh
  once it has worked for a while) and carries on when the service is back.
- Retry, or anything else (a mail server that refuses for now, a bug that
  one job meets): the job is acked and queued again on its retry queue,
  which hands it back after a delay (2 s, growing to 15 s), so the jobs
  behind it go on. After RETRY_FOR it is dead-lettered with its reason and
  logged at ERROR.
"""

import json
import logging
import signal
import threading
import time
from contextlib import nullcontext

import pika

from app import broker, logs
from app.outages import is_outage

log = logging.getLogger(__name__)

RETRY_FOR = 15 * 60  # seconds a failing job is tried again before it is dead-lettered
# Seconds before each try again, then the last over and over: short, so a
# code waits at most 15 s once the mail server is back (a code is for now).
RETRY_DELAYS = (2, 5, 10, 15)


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
        self.properties = properties
        self.body = body
        self.received_at = time.time()
        headers = (properties and properties.headers) or {}
        self.attempts = int(headers.get("x-parley-attempts", 0))
        self.first_failed = int(headers.get("x-parley-first-failed", 0))
        # Handed out before, or tried before: its work may be done in part.
        self.redelivered = method.redelivered or self.attempts > 0


class Backoff:
    """Waits that double with each failure in a row, from `least` up to
    `most`, and start again from `least` once things have gone well for
    `healthy` seconds."""

    def __init__(self, least=0.5, most=30, healthy=10, clock=time.monotonic):
        self.least, self.most, self.healthy, self.clock = least, most, healthy, clock
        self.delay = least
        self.failed_at = 0.0

    def failed(self):
        """How long to wait now."""
        wait = self.delay
        self.delay = min(self.delay * 2, self.most)
        self.failed_at = self.clock()
        return wait

    def going_well(self):
        if self.clock() - self.failed_at >= self.healthy:
            self.delay = self.least


class Consumer:
    """Consume `queue` (a base name, namespaced here), calling
    `handle(deliveries)` in the app context. `handle` returns
    {delivery: Reject|Retry} for the deliveries it did not complete, and
    raises for an outage."""

    def __init__(self, app, queue, handle, prefetch):
        self.app = app
        self.queue = queue
        self.handle = handle
        self.prefetch = prefetch
        self.stopping = False
        self.received = []
        self.backoff = Backoff()

    def stop(self, *_):
        self.stopping = True

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.serve()

    def serve(self):
        """Consume until stopped (run() also stops on SIGTERM and SIGINT)."""
        with self.app.app_context():
            name = broker.queue_name(self.queue)
            while not self.stopping:
                try:
                    self.consume(name)
                except Exception as error:
                    if not is_outage(error):
                        raise
                    wait = self.backoff.failed()
                    log.warning("%s: %r; the jobs wait; trying again in %.1fs", name, error, wait)
                    time.sleep(wait)

    def consume(self, name):
        connection = broker.connect(self.app.config["RABBITMQ_URL"])
        try:
            channel = connection.channel()
            channel.confirm_delivery()  # for retries and dead letters
            broker.declare(channel, name, self.app.config["QUEUE_TYPE"])
            channel.basic_qos(prefetch_count=self.prefetch)
            channel.basic_consume(name, self.on_message)
            log.info("consuming %s", name)
            while not self.stopping:
                connection.process_data_events(time_limit=1)
                if self.received:
                    batch, self.received = self.received, []
                    self.work(channel, batch)
                self.backoff.going_well()
        finally:
            self.received = []  # unacked: the broker hands them out again when we go
            if connection.is_open:
                connection.close()

    def on_message(self, channel, method, properties, body):
        self.received.append(Delivery(method, properties, body))

    def work(self, channel, batch):
        failures = self.handle(batch)
        if not failures:  # the usual case: one ack for the whole batch
            channel.basic_ack(batch[-1].tag, multiple=True)
            return
        for delivery in batch:
            failure = failures.get(delivery)
            if failure is None:
                channel.basic_ack(delivery.tag)
            elif isinstance(failure, Reject):
                self.dead_letter(channel, delivery, str(failure))
            else:
                self.retry_later(channel, delivery, str(failure))

    def retry_later(self, channel, delivery, reason):
        """Queue the job again behind a delay, or dead-letter it once it has failed for RETRY_FOR."""
        now = int(time.time())  # AMQP headers carry no floats
        first_failed = delivery.first_failed or now
        if now - first_failed >= RETRY_FOR:
            tries, minutes = delivery.attempts + 1, (now - first_failed) / 60
            self.dead_letter(channel, delivery, f"gave up after {tries} tries over {minutes:.0f} min: {reason}")
            return
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS) - 1)]
        log.warning("job failed (%s); trying it again in %ds", reason, delay)
        headers = {"x-parley-attempts": delivery.attempts + 1, "x-parley-first-failed": first_failed}
        self.republish(channel, delivery, broker.retry_queue(broker.queue_name(self.queue)), headers, delay)

    def dead_letter(self, channel, delivery, reason):
        """Park the job on the dead-letter queue with its reason, then drop it here."""
        log.error("dead-lettering a job: %s", reason)
        headers = {"x-parley-reason": reason, "x-parley-queue": self.queue}
        self.republish(channel, delivery, broker.dead_letter_queue(broker.queue_name(self.queue)), headers)

    @staticmethod
    def republish(channel, delivery, queue, headers, delay=None):
        properties = pika.BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=delivery.properties.content_type if delivery.properties else None,
            headers=headers,
            expiration=str(delay * 1000) if delay else None,
        )
        channel.basic_publish("", queue, delivery.body, properties)  # confirmed before the ack below
        channel.basic_ack(delivery.tag)


def run_side_by_side(consumers, context=nullcontext):
    """Run consumers at once, each in a thread with its own connection, so
    one queue's slow work never holds up another's; SIGTERM or SIGINT stops
    them all. If one stops for any other reason, they all stop, and so does
    the process (its runner starts it again)."""
    failed = threading.Event()

    def stop(*_):
        for consumer in consumers:
            consumer.stop()

    def serve(consumer):
        try:
            with context():
                consumer.serve()
        except BaseException:
            log.exception("%s stopped", consumer.queue)
            failed.set()
            stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [threading.Thread(target=serve, args=(consumer,), name=consumer.queue) for consumer in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)  # wakes, so the signals reach their handler
    if failed.is_set():
        raise SystemExit(1)


def configure_logging(worker):
    logs.configure(worker)


def one_by_one(handle_one):
    """Adapt a one-job handler to `handle(deliveries)`: Reject and Retry are
    the job's; an outage stops the batch; anything else is tried again."""

    def handle(deliveries):
        failures = {}
        for delivery in deliveries:
            try:
                handle_one(delivery)
            except (Reject, Retry) as failure:
                failures[delivery] = failure
            except Exception as error:
                if is_outage(error):
                    raise
                log.exception("job failed")
                failures[delivery] = Retry(repr(error))
        return failures

    return handle


def in_batches(parse, work):
    """Adapt `parse(delivery)` (Reject for a bad job) and `work(jobs)` to
    `handle(deliveries)`: the good jobs are done as one batch; if the batch
    fails for a reason other than an outage, they are done one by one to
    find the job at fault. `work` may return [(job, Reject or Retry)] for
    jobs of the batch it did not do."""

    def work_one(delivery):
        for _, failure in work([parse(delivery)]) or ():
            raise failure

    each = one_by_one(work_one)

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
            not_done = work([job for _, job in jobs]) or ()
            by_job = {id(job): delivery for delivery, job in jobs}
            failures.update((by_job[id(job)], failure) for job, failure in not_done)
        except Exception as error:
            if is_outage(error):
                raise
            log.exception("a batch of %d failed; trying its jobs one by one", len(jobs))
            failures.update(each([delivery for delivery, _ in jobs]))
        return failures

    return handle
