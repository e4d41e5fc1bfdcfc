"""Parley as the Procfile runs it, for a benchmark or a fault run: gunicorn
with gevent workers for `web`, `python -m workers.chat` (and, when asked,
`python -m workers.mail` and `python -m workers.notify`), on the local Redis
and RabbitMQ (or private ones) and a SecantusDB of its own; every process
watched for CPU and memory."""

import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import pika
import psutil
import redis
from pymongo import MongoClient

from app import broker
from sandbox import BIN, ROOT, Process, SecantusDB, free_port


def wait_until(ready, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {seconds}s")


def listener_pid(port):
    """The process listening on a local port (Redis, RabbitMQ), or None."""
    for connection in psutil.net_connections("tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    return None


class System:
    """One deployment under test: `web_workers` gunicorn workers, `chat_workers`
    chat workers, `mail_workers` mail workers and `notify_workers` notify
    workers. It starts a SecantusDB in memory unless given one (`mongo`);
    `env` adds to the processes' environment."""

    def __init__(
        self,
        web_workers=1,
        chat_workers=1,
        mail_workers=0,
        notify_workers=0,
        server_timing=False,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        rabbitmq_url=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        mongo=None,
        env=None,
        log_dir="/tmp",
        label="bench",
    ):
        self.name = f"{label}{uuid.uuid4().hex[:8]}"
        self.log_dir = log_dir
        self.own_mongo = mongo is None
        self.mongo = mongo or SecantusDB(log_path=self._log_path("secantus"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "DIRECTORY": "open",  # the people-search scenario searches everyone by name, as it always has
            "HANDSHAKES_PER_IP": "100000",  # thousands of people, all on 127.0.0.1
            # Timing every database call has a cost: only the pages scenario, which reports it, pays it.
            "SERVER_TIMING": "1" if server_timing else "0",
            # The benchmark's choice (README "Deploying"): every write is idempotent or
            # redone on redelivery, and SecantusDB spent a fifth of its time on the
            # sessions retryable writes need.
            "MONGODB_RETRY_WRITES": "0",
            "MONGODB_URI": self.mongo.url(self.name),
            "REDIS_URL": redis_url,
            "RABBITMQ_URL": rabbitmq_url,
            "KEY_PREFIX": f"{self.name}:",
            "QUEUE_PREFIX": f"{self.name}.",
            "UPLOAD_DIR": os.path.join("/tmp", self.name, "uploads"),
            "WEB_CONCURRENCY": str(web_workers),
            "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": ROOT,
            **(env or {}),
        }
        self._indexes()
        self.web = self._start(
            "web",
            [os.path.join(BIN, "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
        )
        self.workers = [self.start_worker("chat", n) for n in range(1, chat_workers + 1)]
        self.mail_workers = [self.start_worker("mail", n) for n in range(1, mail_workers + 1)]
        self.notify_workers = [self.start_worker("notify", n) for n in range(1, notify_workers + 1)]
        wait_until(self.web_up, "the web process")
        for worker in self.workers + self.mail_workers + self.notify_workers:
            self.wait_consuming(worker)
        wait_until(lambda: len(self.web_workers()) == web_workers, "gunicorn's workers")

    def _log_path(self, name):
        return os.path.join(self.log_dir, f"{self.name}-{name}.log")

    def _start(self, name, command, env=None):
        return Process(name, command, {**self.env, **(env or {})}, log_path=self._log_path(name))

    def start_worker(self, kind, number=1, env=None):
        """`python -m workers.<kind>` (chat, mail or notify), as the Procfile runs it; `env` adds to its environment."""
        return self._start(f"{kind}_worker{number}", [sys.executable, "-m", f"workers.{kind}"], env)

    def wait_consuming(self, worker, times=1, seconds=60):
        """Until the worker's log says "consuming" `times` times (a restarted worker adds to its log)."""
        wait_until(lambda: worker.output().count("consuming") >= times or not worker.alive(), worker.name, seconds)

    def restart_worker(self, worker):
        """Start a worker again after it died, as a process manager would; returns it once it consumes."""
        kind, number = worker.name.split("_worker")
        started = worker.output().count("consuming")
        again = self.start_worker(kind, int(number))
        self.wait_consuming(again, started + 1)
        for workers in (self.workers, self.mail_workers, self.notify_workers):
            workers[:] = [again if each is worker else each for each in workers]
        return again

    def web_up(self):
        try:
            return urllib.request.urlopen(self.url + "/signin", timeout=1).status == 200
        except OSError:
            return False

    def _indexes(self):
        subprocess.run(
            [os.path.join(BIN, "flask"), "--app", "wsgi", "release"],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def app(self):
        """The app, in this process, on this system's data: for seeding and tokens."""
        os.environ.update({key: value for key, value in self.env.items() if key != "PATH"})
        from app import create_app

        return create_app()

    def settle(self, seconds=30):
        """Wait (at most `seconds`) until the web and worker processes and the
        store are idle, so one scenario's setup does not spill into what the
        next measures (SecantusDB works on for seconds after a large insert)."""
        busy = [*self.web_workers(), *(psutil.Process(w.pid) for w in self.workers)]
        busy.append(psutil.Process(self.mongo.process.pid))
        deadline = time.monotonic() + seconds
        for process in busy:
            process.cpu_percent(None)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if all(process.cpu_percent(None) < 10 for process in busy):
                return

    def web_workers(self):
        return psutil.Process(self.web.pid).children()

    def watched(self):
        """{name: psutil.Process} for everything the benchmark measures."""
        found = {f"web{n}": worker for n, worker in enumerate(self.web_workers(), start=1)}
        every = self.workers + self.mail_workers + self.notify_workers
        found.update({worker.name: psutil.Process(worker.pid) for worker in every})
        found["secantusdb"] = psutil.Process(self.mongo.process.pid)
        for name in ("redis", "rabbitmq"):
            pid = listener_pid(urlsplit(self.env[f"{name.upper()}_URL"]).port)
            if pid:
                found[name] = psutil.Process(pid)
        return found

    def store_operations(self):
        """The store's operation counters so far (serverStatus opcounters): {kind: count}."""
        with MongoClient(self.mongo.url(self.name), serverSelectionTimeoutMS=2000) as client:
            return dict(client.admin.command("serverStatus")["opcounters"])

    def queue_depth(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.env["RABBITMQ_URL"]))
        try:
            name = self.env["QUEUE_PREFIX"] + "chat:messages"
            return connection.channel().queue_declare(name, durable=True, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker:
            return 0
        finally:
            if connection.is_open:
                connection.close()

    def stop(self, clean=True):
        """Stop every process; with `clean`, remove this system's keys and
        queues from the (shared) Redis and RabbitMQ."""
        for process in [self.web, *self.workers, *self.mail_workers, *self.notify_workers]:
            process.stop(20)
        if self.own_mongo:
            self.mongo.kill()  # in memory: nothing to keep, and a graceful stop takes two seconds
        if not clean:
            return
        client = redis.Redis.from_url(self.env["REDIS_URL"])
        keys = list(client.scan_iter(self.env["KEY_PREFIX"] + "*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        connection = pika.BlockingConnection(pika.URLParameters(self.env["RABBITMQ_URL"]))
        channel = connection.channel()
        for queue in broker.QUEUES:
            name = self.env["QUEUE_PREFIX"] + queue
            for each in (name, broker.dead_letter_queue(name), broker.retry_queue(name)):
                channel.queue_delete(each)
        connection.close()


class Sampler:
    """Samples CPU% and RSS of the watched processes, and the queue depth, once
    a second; counts the operations the store served meanwhile."""

    def __init__(self, system, extra=None):
        self.system = system
        self.processes = {**system.watched(), **(extra or {})}
        self.operations, self.started = system.store_operations(), time.monotonic()
        self.samples = {name: [] for name in self.processes}
        self.depths = []
        self._stop = threading.Event()
        for process in self.processes.values():
            process.cpu_percent(None)  # the first reading is a baseline
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.wait(1.0):
            for name, process in self.processes.items():
                try:
                    self.samples[name].append((process.cpu_percent(None), process.memory_info().rss))
                except psutil.Error:
                    pass
            try:
                self.depths.append(self.system.queue_depth())
            except Exception:
                pass

    def stop(self):
        self._stop.set()
        self.thread.join()
        summary = {}
        for name, samples in self.samples.items():
            if samples:
                summary[name] = {
                    "cpu_percent": round(sum(cpu for cpu, _ in samples) / len(samples), 1),
                    "rss_mb": round(max(rss for _, rss in samples) / 1e6, 1),
                }
        seconds = time.monotonic() - self.started
        per_second = {
            kind: (count - self.operations.get(kind, 0)) / seconds
            for kind, count in self.system.store_operations().items()
        }
        return {"processes": summary, "queue_depth_max": max(self.depths, default=0), "store_per_second": per_second}
