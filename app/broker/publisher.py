"""A publisher that waits for the broker's confirm.

pika connections must not be shared between greenlets, so each process has a
few publishing threads (greenlets under gevent), each owning a confirming
connection; requests hand them jobs and wait for the outcome. A confirming
connection publishes one job per round trip to the broker, so one of them
would cap a process at a few hundred jobs a second: another is opened
whenever a job finds them all busy, up to `connections`.
"""

import json
import logging
import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import pika

from app.broker import PublishError, connect, declare

PERSISTENT = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json")

log = logging.getLogger(__name__)


class Publisher:
    def __init__(self, url, queue_type, confirm_timeout=5.0, connections=16):
        self.url = url
        self.queue_type = queue_type
        self.confirm_timeout = confirm_timeout
        self.connections = connections
        self._jobs = queue.Queue()
        self._threads = 0
        self._idle = 0
        self._lock = threading.Lock()

    def publish(self, name, payload):
        """Queue `payload` (JSON) on queue `name`; raise PublishError unless the broker confirms it."""
        outcome = Future()
        self._jobs.put((name, json.dumps(payload).encode(), outcome))
        self._grow()
        try:
            outcome.result(self.confirm_timeout)
        except FutureTimeout:
            if outcome.cancel():  # not yet handed to the broker: it never will be
                raise PublishError("the broker did not take the job in time") from None
            # Handed over: the broker may yet confirm it. Wait a little more, then say we do not know.
            try:
                outcome.result(self.confirm_timeout)
            except FutureTimeout:
                raise PublishError("the broker did not confirm in time", maybe_queued=True) from None

    def close(self):
        """Stop the publishing threads, each closing its connection, once
        they have handed over the jobs before this: for an app that ends
        before its process does (a test's)."""
        with self._lock:
            threads = self._threads
        for _ in range(threads):
            self._jobs.put(None)

    def _grow(self):
        with self._lock:
            if self._idle == 0 and self._threads < self.connections:
                self._threads += 1
                threading.Thread(target=self._run, name="rabbitmq-publisher", daemon=True).start()

    def _next_job(self):
        with self._lock:
            self._idle += 1
        try:
            return self._jobs.get(timeout=10)
        finally:
            with self._lock:
                self._idle -= 1

    def _run(self):
        channel, declared = None, set()
        while True:
            try:
                job = self._next_job()
            except queue.Empty:
                channel = self._keep_alive(channel)
                continue
            if job is None:  # closed
                self._close(channel)
                with self._lock:
                    self._threads -= 1
                return
            name, body, outcome = job
            if not outcome.set_running_or_notify_cancel():
                continue
            try:
                if channel is None:
                    channel, declared = self._open(), set()
                if name not in declared:
                    declare(channel, name, self.queue_type)
                    declared.add(name)
            except Exception as error:  # not handed to the broker
                outcome.set_exception(self._failed(name, error, maybe_queued=False))
                self._close(channel)
                channel = None
                continue
            try:
                channel.basic_publish("", name, body, PERSISTENT, mandatory=True)
            except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as error:  # refused
                outcome.set_exception(self._failed(name, error, maybe_queued=False))
            except Exception as error:  # lost on the way: the broker may have it
                outcome.set_exception(self._failed(name, error, maybe_queued=True))
                self._close(channel)
                channel = None
            else:
                outcome.set_result(None)

    @staticmethod
    def _failed(name, error, maybe_queued):
        log.warning("publish to %s failed: %r", name, error)
        return PublishError(str(error) or type(error).__name__, maybe_queued=maybe_queued)

    def _open(self):
        channel = connect(self.url).channel()
        channel.confirm_delivery()
        return channel

    def _keep_alive(self, channel):
        """Serve heartbeats while idle, so the broker does not drop us."""
        if channel is None:
            return None
        try:
            channel.connection.process_data_events(0)
            return channel
        except Exception:
            self._close(channel)
            return None

    @staticmethod
    def _close(channel):
        try:
            if channel is not None:
                channel.connection.close()
        except Exception:
            pass
