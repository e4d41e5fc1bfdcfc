"""The faults. Each breaks one thing in a running Rig and puts it back as a
process manager or an operator would, and returns when it broke and when
the fault ended (wall times): when a server accepts connections again or
the memory limit is lifted, when a killed worker is started again (its
start-up counts as the app's recovery), and at once for a web worker
(gunicorn starts another itself)."""

import os
import shutil
import signal
import time

from bench.system import wait_until

DOWN = 5  # seconds a killed server stays down before it is started again
RESTART_DELAY = 1  # seconds before a process manager starts a crashed worker again
OOM_SECONDS = 20
SMTP_DOWN = 60


def chat_worker_kill(rig):
    """SIGKILL the chat worker mid-batch; start it again a second later."""
    [worker] = rig.system.workers
    start = time.time()
    worker.kill()
    time.sleep(RESTART_DELAY)
    end = time.time()
    rig.system.restart_worker(worker)
    return start, end


def web_worker_kill(rig):
    """SIGKILL one of gunicorn's two workers: its pages drop, the master starts another."""
    victim = rig.system.web_workers()[0]
    start = time.time()
    os.kill(victim.pid, signal.SIGKILL)

    def replaced():
        workers = rig.system.web_workers()
        return len(workers) == 2 and victim.pid not in {w.pid for w in workers} and rig.system.web_up()

    wait_until(replaced, "a new web worker", 60)
    return start, start


def rabbitmq_restart(rig):
    """Stop RabbitMQ as an operator would (it closes its connections), start it again."""
    start = time.time()
    rig.rabbitmq.restart()
    return start, time.time()


def rabbitmq_kill(rig):
    """SIGKILL RabbitMQ; start it again after DOWN seconds (its durable queues survive)."""
    start = time.time()
    rig.rabbitmq.kill()
    time.sleep(DOWN)
    rig.rabbitmq.start()
    return start, time.time()


def redis_restart(rig):
    """Stop Redis and start it again at once: it keeps nothing, as a restarted cache without persistence."""
    start = time.time()
    rig.redis.stop()
    rig.redis.start()
    return start, time.time()


def redis_kill(rig):
    """SIGKILL Redis; start it again, empty, after DOWN seconds."""
    start = time.time()
    rig.redis.kill()
    time.sleep(DOWN)
    rig.redis.start()
    return start, time.time()


def redis_out_of_memory(rig):
    """Redis refuses writes (OOM, noeviction) for OOM_SECONDS, then has room again."""
    client = rig.redis.client()
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory-policy", "noeviction")
    start = time.time()
    client.config_set("maxmemory", used // 2)  # below what it holds: every write that adds is refused
    time.sleep(OOM_SECONDS)
    client.config_set("maxmemory", 0)
    return start, time.time()


def redis_rollback(rig, after=10):
    """Redis comes back from a snapshot taken `after` seconds earlier: counters,
    streams and pending sends as they were then."""
    client = rig.redis.client()
    client.save()
    snapshot = os.path.join(rig.dir, "older.rdb")
    shutil.copy(os.path.join(rig.dir, "dump.rdb"), snapshot)
    time.sleep(after)
    start = time.time()
    rig.redis.stop()
    shutil.copy(snapshot, os.path.join(rig.dir, "dump.rdb"))
    rig.redis.start()
    return start, time.time()


def secantusdb_kill(rig):
    """SIGKILL SecantusDB; start it again on the same storage after DOWN seconds."""
    start = time.time()
    rig.mongo.kill()
    time.sleep(DOWN)
    rig.mongo.start()
    return start, time.time()


def smtp_down(rig):
    """The SMTP server is gone for SMTP_DOWN seconds while people ask for codes."""
    start = time.time()
    rig.inbox.stop()
    time.sleep(SMTP_DOWN)
    rig.inbox.start()
    return start, time.time()
