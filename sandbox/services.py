"""Private instances of Parley's services, each on a free port of its own:
started, stopped, killed and started again as a test or a fault run needs."""

import email
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from email import policy

import pika
import redis
from aiosmtpd.controller import Controller

from sandbox.processes import BIN, Process, free_port, listening, wait_for


class Certificates:
    """A certificate authority of the run's own and a certificate it signed
    for 127.0.0.1, as PEM files (trustme): `ca`, `cert`, `key`."""

    def __init__(self):
        import trustme

        authority = trustme.CA()
        issued = authority.issue_cert("127.0.0.1", "localhost")
        self.dir = tempfile.mkdtemp(prefix="parley-tls-")
        self.ca, self.cert, self.key = (os.path.join(self.dir, name) for name in ("ca.pem", "cert.pem", "key.pem"))
        authority.cert_pem.write_to_path(self.ca)
        issued.cert_chain_pems[0].write_to_path(self.cert)
        issued.private_key_pem.write_to_path(self.key)

    def server_context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class SecantusDB:
    """A MongoDB wire-protocol server. In memory by default; with a
    `storage_path` its data outlives a kill, as a real server's does."""

    def __init__(self, storage_path=":memory:", log_path=None):
        self.port = free_port()
        self.storage_path = storage_path
        self.log_path = log_path
        self.process = None
        self.start()

    def start(self):
        command = [os.path.join(BIN, "secantusd-py"), "--port", str(self.port), "--storage-path", self.storage_path]
        command += ["--log-level", "WARNING"]
        self.process = Process("secantus", command, dict(os.environ), log_path=self.log_path)
        wait_for(lambda: listening(self.port), 30, what="SecantusDB")

    def url(self, database):
        return f"mongodb://127.0.0.1:{self.port}/{database}?directConnection=true"

    def kill(self):
        self.process.kill()

    def stop(self):
        self.process.stop()


class PrivateRedis:
    """A Redis of our own, keeping nothing on disk unless asked: with `dir`
    it writes dump.rdb there on SAVE and loads it when it starts. With
    `certificates` it speaks TLS only (a rediss:// URL), as managed Redis
    add-ons do."""

    def __init__(self, dir=None, log_path=None, certificates=None):
        self.port = free_port()
        self.certificates = certificates
        self.url = f"{'rediss' if certificates else 'redis'}://127.0.0.1:{self.port}/0"
        self.dir = dir
        self.log_path = log_path
        self.process = None
        self.start()

    def start(self):
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self.certificates:
            command[1:3] = ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no"]
            for option, path in (("cert", "cert"), ("key", "key"), ("ca-cert", "ca")):
                command += [f"--tls-{option}-file", getattr(self.certificates, path)]
        if self.dir:
            command += ["--dir", self.dir, "--dbfilename", "dump.rdb"]
        self.process = Process("redis", command, dict(os.environ), log_path=self.log_path)
        wait_for(lambda: listening(self.port), 10, what="private Redis")

    def client(self):
        tls = {"ssl_ca_certs": self.certificates.ca} if self.certificates else {}
        return redis.Redis.from_url(self.url, decode_responses=True, **tls)

    def kill(self):
        self.process.kill()

    def stop(self):
        self.process.stop()


class PrivateRedisCluster:
    """A Redis Cluster of our own: three masters on spare ports (each with its
    cluster bus on port + 10000), all slots covered. `url` is Parley's
    redis+cluster:// URL for it."""

    def __init__(self, nodes=3, attempts=3):
        self.dir = tempfile.mkdtemp(prefix="parley-cluster-")
        self.processes = []
        for _ in range(attempts):
            # A spare port can be taken (or its bus port + 10000 be) between
            # choosing and binding it, on a machine others share: then again.
            failure = self._start(nodes)
            if failure is None:
                return
            self.stop_nodes()
        raise RuntimeError(f"no Redis Cluster after {attempts} attempts: {failure}")

    def _start(self, nodes):
        self.ports = []
        while len(self.ports) < nodes:
            port = free_port()
            if port < 55000 and not listening(port + 10000) and port not in self.ports:
                self.ports.append(port)
        for port in self.ports:
            config = os.path.join(self.dir, f"nodes-{port}.conf")
            command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"]
            command += ["--cluster-config-file", config, "--save", "", "--appendonly", "no"]
            self.processes.append(Process(f"redis-cluster-{port}", command, dict(os.environ), cwd=self.dir))
        try:
            for port, process in zip(self.ports, self.processes):
                wait_for(lambda p=port, n=process: listening(p) or not n.alive(), 10, what="a cluster node")
        except AssertionError as error:
            return str(error)
        nodes = [f"127.0.0.1:{port}" for port in self.ports]
        created = subprocess.run(
            ["redis-cli", "--cluster", "create", *nodes, "--cluster-yes"], capture_output=True, text=True, timeout=60
        )
        if created.returncode or not all(process.alive() for process in self.processes):
            return (created.stdout + created.stderr).strip().splitlines()[-1:] or "a node stopped"
        clients = [redis.Redis(port=port, decode_responses=True) for port in self.ports]
        wait_for(lambda: all(c.cluster("info")["cluster_state"] == "ok" for c in clients), 20, what="the cluster")
        self.url = f"redis+cluster://127.0.0.1:{self.ports[0]}/0"
        return None

    def stop_nodes(self):
        for process in self.processes:
            process.stop()
        self.processes = []

    def stop(self):
        self.stop_nodes()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A RabbitMQ node of our own (its own ports and data), for tests that
    restart the broker. Its data survives a restart, as a real broker's does.
    With `certificates` it also speaks AMQPS, at `tls_url` (which trusts the
    run's CA, as pika's ssl_options URL argument lets a URL say)."""

    def __init__(self, log_path=None, certificates=None):
        self.dir = tempfile.mkdtemp(prefix="parley-rabbit-")
        self.port = free_port()
        self.dist_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self.name = f"parley{self.port}@localhost"
        self.log_path = log_path
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as file:
            file.write("[].\n")
        settings = [f"listeners.tcp.default = 127.0.0.1:{self.port}", "loopback_users = none"]
        self.tls_port = None
        if certificates:
            self.tls_port = tls_port = free_port()
            settings += [
                f"listeners.ssl.default = 127.0.0.1:{tls_port}",
                f"ssl_options.cacertfile = {certificates.ca}",
                f"ssl_options.certfile = {certificates.cert}",
                f"ssl_options.keyfile = {certificates.key}",
                "ssl_options.verify = verify_none",
                "ssl_options.fail_if_no_peer_cert = false",
            ]
            trust = urllib.parse.quote(repr({"ca_certs": certificates.ca}))
            self.tls_url = f"amqps://guest:guest@127.0.0.1:{tls_port}/%2F?ssl_options={trust}"
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as file:
            file.write("\n".join(settings) + "\n")
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
        command = [server if os.path.exists(server) else "rabbitmq-server"]
        self.process = Process("rabbitmq", command, env, log_path=self.log_path)

        def ready():
            # Both listeners: the TLS one opens after the plain one, and a test
            # run right after a restart (test_production's amqps test) found it shut.
            if self.tls_port and not listening(self.tls_port):
                return False
            try:
                pika.BlockingConnection(pika.URLParameters(self.url)).close()
                return True
            except Exception:
                return False

        wait_for(ready, 90, interval=0.25, what="private RabbitMQ")

    def stop(self):
        self.process.stop(timeout=30)

    def kill(self):
        self.process.signal(signal.SIGKILL)
        self.process.popen.wait(5)

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


class Inbox:
    """An SMTP server (aiosmtpd) that keeps what it receives, and when; with
    `certificates`, it offers STARTTLS and refuses mail without it."""

    def __init__(self, port=None, not_now=(), certificates=None):
        self.messages = []
        self.arrived_at = []  # time.time() of each of `messages`
        self.not_now = set(not_now)  # addresses answered "try again later"
        self._changed = threading.Condition()
        self.port = port or free_port()
        self.certificates = certificates
        self.controller = None
        self.start()

    def start(self):
        """Listen (again, after a stop) on the same port."""
        tls = {"tls_context": self.certificates.server_context(), "require_starttls": True} if self.certificates else {}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **tls)
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
            self.arrived_at.append(time.time())
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
