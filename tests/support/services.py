"""Real services and processes for the tests: a private SecantusDB, an
in-process SMTP server, gunicorn and the workers as subprocesses, and private
Redis and RabbitMQ instances for the tests that stop or restart them."""

import email
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from email import policy

import pika
import redis
from aiosmtpd.controller import Controller

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_for(condition, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Process:
    """A subprocess whose output goes to a log file, shown if a test fails."""

    def __init__(self, name, command, env, cwd=ROOT):
        self.name = name
        self.log_path = tempfile.mktemp(prefix=f"parley-{name}-", suffix=".log")
        self.log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self):
        return self.popen.pid

    def output(self):
        with open(self.log_path, errors="replace") as file:
            return file.read()

    def alive(self):
        return self.popen.poll() is None

    def signal(self, number):
        if self.alive():
            os.killpg(self.popen.pid, number)

    def stop(self, timeout=15):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(5)
        self.log.close()

    def kill(self):
        """SIGKILL, as a crash would."""
        self.signal(signal.SIGKILL)
        self.popen.wait(5)
        self.log.close()


class Processes:
    """Starts the app's processes with a given environment; stops them all at the end."""

    def __init__(self, env):
        self.env = env
        self.started = []

    def _start(self, name, command, extra_env):
        env = {**self.env, **(extra_env or {})}
        env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
        process = Process(name, command, env)
        self.started.append(process)
        return process

    def web(self, port=None, workers=1, env=None):
        port = port or free_port()
        process = self._start(
            "web",
            [
                os.path.join(BIN, "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "wsgi:app",
            ],
            env,
        )
        process.port = port
        process.url = f"http://127.0.0.1:{port}"

        def up():
            if not process.alive():
                raise AssertionError("web process died:\n" + process.output())
            try:
                return urllib.request.urlopen(process.url + "/signin", timeout=1).status == 200
            except OSError:
                return False

        wait_for(up, 30, what="the web process")
        return process

    def worker(self, kind, env=None):
        process = self._start(f"{kind}-worker", [sys.executable, "-m", f"workers.{kind}"], env)
        wait_for(lambda: "consuming" in process.output() or not process.alive(), 30, what=f"the {kind} worker")
        return process

    def stop_all(self):
        """At a test's end: a graceful stop is tested where it is the point,
        and here only costs time (up to a few seconds a process)."""
        for process in reversed(self.started):
            process.kill()

    def report(self):
        return "\n".join(f"--- {p.name} (pid {p.pid}) ---\n{p.output()[-4000:]}" for p in self.started)


class SecantusDB:
    """A throwaway MongoDB wire-protocol server."""

    def __init__(self):
        self.port = free_port()
        self.process = Process(
            "secantus",
            [
                os.path.join(BIN, "secantusd-py"),
                "--port",
                str(self.port),
                "--storage-path",
                ":memory:",
                "--log-level",
                "WARNING",
            ],
            dict(os.environ),
        )
        wait_for(lambda: listening(self.port), 30, what="SecantusDB")

    def stop(self):
        self.process.stop()


class Inbox:
    """An SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self, port=None, not_now=()):
        self.messages = []
        self.not_now = set(not_now)  # addresses answered "try again later"
        self._changed = threading.Condition()
        self.port = port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.not_now:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 OK"

    def to(self, address):
        with self._changed:
            return [m for m in self.messages if m["To"] == address]

    def wait(self, address, count=1, timeout=15):
        """The newest message to `address`, once at least `count` have arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                received = [m for m in self.messages if m["To"] == address]
                if len(received) >= count:
                    return received[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no email #{count} to {address} within {timeout}s")
                self._changed.wait(left)

    def code(self, address, count=1, timeout=15):
        body = self.wait(address, count, timeout).get_body(("plain",)).get_content()
        return re.search(r"\b(\d{6})\b", body).group(1)

    def stop(self):
        self.controller.stop()


class PrivateRedis:
    """A Redis of our own, for tests that restart it."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        self.process = Process(
            "redis",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            dict(os.environ),
        )
        wait_for(lambda: listening(self.port), 10, what="private Redis")

    def client(self):
        return redis.Redis.from_url(self.url, decode_responses=True)

    def stop(self):
        self.process.stop()


class PrivateRabbitMQ:
    """A RabbitMQ node of our own (its own ports and data), for tests that
    restart the broker. Its data survives a restart, as a real broker's does."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="parley-rabbit-")
        self.port = free_port()
        self.dist_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.name = f"parley{self.port}@localhost"
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as file:
            file.write("[].\n")
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as file:
            file.write(f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n")
        self.process = None
        self.start()

    def start(self):
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": os.path.join(self.dir, "mnesia"),
            "RABBITMQ_LOG_BASE": os.path.join(self.dir, "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(self.dir, "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": os.path.join(self.dir, "rabbitmq"),
            "RABBITMQ_CONF_ENV_FILE": os.path.join(self.dir, "env.conf"),
            "RABBITMQ_PID_FILE": os.path.join(self.dir, "pid"),
            "RABBITMQ_FEATURE_FLAGS_FILE": os.path.join(self.dir, "feature_flags"),
            "RABBITMQ_PLUGINS_EXPAND_DIR": os.path.join(self.dir, "plugins"),
        }
        open(env["RABBITMQ_CONF_ENV_FILE"], "a").close()
        self.env = env
        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # not the wrapper, which switches user
        self.process = Process("rabbitmq", [server if os.path.exists(server) else "rabbitmq-server"], env)

        def ready():
            try:
                pika.BlockingConnection(pika.URLParameters(self.url)).close()
                return True
            except Exception:
                return False

        wait_for(ready, 90, interval=0.25, what="private RabbitMQ")

    def stop(self):
        self.process.stop(timeout=30)

    def ctl(self, *arguments):
        """rabbitmqctl on this node, e.g. ctl("set_vm_memory_high_watermark", "0")."""
        command = "/usr/lib/rabbitmq/bin/rabbitmqctl"
        command = command if os.path.exists(command) else "rabbitmqctl"
        subprocess.run([command, "-n", self.name, *arguments], env=self.env, check=True, capture_output=True)

    def restart(self):
        self.stop()
        self.start()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class FakeCloudinary:
    """A loopback stand-in for Cloudinary's upload API that, like the real one,
    refuses an upload whose signature (SHA-1 of the sorted params + secret) is wrong."""

    def __init__(self, cloud="demo", key="1234", secret="s3cret"):
        import hashlib
        import json
        from email.parser import BytesParser
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.uploads, self.destroyed, self.refused = [], [], 0
        self.port = free_port()
        self.url = f"cloudinary://{key}:{secret}@{cloud}?upload_prefix=http://127.0.0.1:{self.port}"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                raw = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + self.rfile.read(length)
                form, file = {}, None
                for part in BytesParser(policy=policy.default).parsebytes(raw).iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "file":
                        file = part.get_payload(decode=True)
                    else:
                        form[name] = part.get_payload(decode=True).decode()
                signable = (
                    f"{k}={v}".replace("&", "%26") for k, v in form.items() if k not in ("api_key", "signature") and v
                )
                signature = hashlib.sha1(("&".join(sorted(signable)) + secret).encode()).hexdigest()
                good = signature == form.get("signature") and form.get("api_key") == key
                if not good:
                    fake.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(b'{"error": {"message": "Invalid Signature"}}')
                    return
                public_id = f"{form['folder']}/{form['public_id']}" if "folder" in form else form.get("public_id")
                if self.path.endswith("/destroy"):
                    fake.destroyed.append(form["public_id"])
                    body = {"result": "ok"}
                else:
                    fake.uploads.append({"form": form, "file": file})
                    body = {
                        "public_id": public_id,
                        "secure_url": f"https://res.cloudinary.com/{cloud}/image/upload/v1/{public_id}",
                        "width": 1,
                        "height": 1,
                    }
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
