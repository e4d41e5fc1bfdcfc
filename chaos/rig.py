"""One deployment for one fault: Parley as the Procfile runs it (two gunicorn
gevent workers, a chat worker, a mail worker, a notify worker) on a private Redis, SecantusDB
and SMTP server of its own and the run's private RabbitMQ, with two people
who have a chat between them."""

import os
import shutil
import tempfile

import pika
import pymongo

from bench import seed
from bench.system import System
from sandbox import Inbox, PrivateRedis, SecantusDB

WEB_WORKERS = 2  # the Procfile's default WEB_CONCURRENCY: killing one leaves one serving


class MachineRabbitMQ:
    """The machine's RabbitMQ (RABBITMQ_URL), for faults that leave the broker
    alone: a rig's queues carry a prefix of its own and go at the rig's end."""

    def __init__(self):
        self.url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

    def remove(self):
        pass


class Rig:
    def __init__(self, name, rabbitmq, log_dir, env=None):
        self.name = name
        self.log_dir = log_dir
        self.dir = tempfile.mkdtemp(prefix=f"parley-chaos-{name}-")
        self.rabbitmq = rabbitmq
        self.redis = PrivateRedis(dir=self.dir, log_path=os.path.join(log_dir, "redis.log"))
        # On disk, so a killed SecantusDB comes back with its data, as MongoDB would.
        store = os.path.join(self.dir, "mongo")
        self.mongo = SecantusDB(storage_path=store, log_path=os.path.join(log_dir, "secantus.log"))
        self.inbox = Inbox()
        self.system = None
        try:
            self.system = System(
                web_workers=WEB_WORKERS,
                chat_workers=1,
                mail_workers=1,
                notify_workers=1,
                redis_url=self.redis.url,
                rabbitmq_url=rabbitmq.url,
                mongo=self.mongo,
                log_dir=log_dir,
                label="chaos",
                env={
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": str(self.inbox.port),
                    "MAIL_DEFAULT_SENDER": "Parley <no-reply@parley.test>",
                    # Every sign-in comes from 127.0.0.1, a new address each time.
                    "SIGNIN_LIMIT_PER_IP": "100000 per hour",
                    **(env or {}),
                },
            )
            app = self.system.app()
            first, second = seed.people(app, 2, f"chaos-{name}")
            [self.chat] = seed.chats_between(app, [(first, second)])
            self.people = [seed.credentials(app, first), seed.credentials(app, second)]
        except BaseException:
            self.stop()
            raise

    @property
    def url(self):
        return self.system.url

    def messages(self):
        """[(client_id, seq)] of every message stored in the chat, read after the run."""
        client = pymongo.MongoClient(self.system.env["MONGODB_URI"], serverSelectionTimeoutMS=10_000)
        try:
            docs = client.get_default_database().messages.find({"chat_id": self.chat}, {"client_id": 1, "seq": 1})
            return [(doc["client_id"], doc.get("seq")) for doc in docs]
        finally:
            client.close()

    def queues(self):
        """{queue: {"waiting": n, "dead": {reason: n}}} for the app's two queues."""
        connection = pika.BlockingConnection(pika.URLParameters(self.rabbitmq.url))
        channel = connection.channel()
        found = {}
        try:
            for queue in ("chat:messages", "send-otp", "send-mail"):
                name = self.system.env["QUEUE_PREFIX"] + queue
                waiting = channel.queue_declare(name, durable=True).method.message_count
                channel.queue_declare(name + ".dead", durable=True)
                dead = {}
                while True:
                    method, properties, _ = channel.basic_get(name + ".dead", auto_ack=True)
                    if method is None:
                        break
                    reason = (properties.headers or {}).get("x-parley-reason", "no reason given")
                    dead[reason] = dead.get(reason, 0) + 1
                found[queue] = {"waiting": waiting, "dead": dead}
        finally:
            connection.close()
        return found

    def stop(self):
        if self.system:
            # Its private Redis and RabbitMQ go with the run; queues on the machine's RabbitMQ must go now.
            self.system.stop(clean=isinstance(self.rabbitmq, MachineRabbitMQ))
        for service in (self.redis, self.mongo, self.inbox):
            try:
                service.stop()
            except Exception:  # already stopped by the fault
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
