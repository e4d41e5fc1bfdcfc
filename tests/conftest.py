"""Fixtures: every run gets its own database, Redis key prefix and queue
prefix on the shared services; tests that break a service get their own."""

import os
import uuid

import flask
import jinja2
import pika
import pytest

import sandbox.processes
from tests.support import redis_tier
from tests.support.clock import Clock
from tests.support.people import two_people_with_a_chat
from tests.support.pushes import RecordedPushes
from tests.support.services import (
    Certificates,
    Inbox,
    PrivateRabbitMQ,
    PrivateRedis,
    PrivateRedisCluster,
    Processes,
    SecantusDB,
    redis_at,
)


class SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates, kept in this process for every app a test makes:
    each app's Jinja environment would otherwise parse and compile each
    template again (two fifths of an in-process test's time). A template
    whose source changed is compiled anew (the bucket checks its checksum)."""

    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


flask.Flask.jinja_options = {**flask.Flask.jinja_options, "bytecode_cache": SharedBytecode()}

RUN = uuid.uuid4().hex[:8]
QUEUES = ("send-otp", "send-mail", "chat:messages")
QUEUE_TYPES = ("classic", "quorum")


def pytest_generate_tests(metafunc):
    """Tests marked each_queue_type (the worker suite) run on classic and on quorum queues."""
    if "queue_type" in metafunc.fixturenames and metafunc.definition.get_closest_marker("each_queue_type"):
        metafunc.parametrize("queue_type", QUEUE_TYPES, indirect=True)


# The tiers (pyproject.toml's markers), given by what a test uses, so that no
# test has to remember its own. A browser test drives the app's processes. `make check` runs the tests in none of
# browser, process and smoke; the Redis Cluster rerun runs the redis tier.
PROCESS_FIXTURES = {"processes", "module_processes", "live", "private_redis", "private_rabbit"}
BROWSER_FIXTURES = {"browser", "live"}
# A namespace of the test's own: its keys (and queues) are read or written.
REDIS_FIXTURES = {"namespace"}
# Modules whose subject is the queues, the mail worker or a platform's own
# services: their namespace is for queue names, their Redis is not the run's
# (test_production's is a TLS one of its own), so a Redis Cluster changes
# nothing for them. tests/unit/test_redis_tier.py checks that the redis tier
# still reaches every script and multi-key pipeline in app/.
NOT_REDIS_MODULES = {"test_broker.py", "test_mail_worker.py", "test_production.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & BROWSER_FIXTURES or "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
            # A step Chromium must see within seconds (typing shown, a message written offline
            # arriving) missed its time now and then with several test processes on 2 cores: a
            # browser test that fails is run once more, and counts as failed only if it fails again
            # (pytest's summary lists each rerun with an R).
            item.add_marker(pytest.mark.flaky(reruns=1))
        if item.path.name.endswith("_smoke.py"):
            item.add_marker(pytest.mark.smoke)
        if fixtures & PROCESS_FIXTURES or item.get_closest_marker("smoke") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.process)
        if fixtures & REDIS_FIXTURES and item.path.name not in NOT_REDIS_MODULES:
            item.add_marker(pytest.mark.redis)
        # One boot for the tests that share it, on one pytest-xdist process.
        if "private_rabbit" in fixtures:
            item.add_marker(pytest.mark.xdist_group("private_rabbit"))
        elif "module_processes" in fixtures:
            item.add_marker(pytest.mark.xdist_group(item.path.name))
    # The longest first (the smoke runs take minutes, processes and Chromium
    # seconds): on several pytest-xdist processes, the quick in-process tests
    # then fill the end instead of a smoke run starting last.
    items.sort(key=lambda item: [not item.get_closest_marker(tier) for tier in ("smoke", "process")])


class ProcessGuard:
    """A test that starts a process of its own (an app process or a private
    service) outside the fixtures above must say so with
    @pytest.mark.process, or `make check` would start it. The run's shared
    ones (session fixtures) are exempt. A plugin of its own, not conftest
    hooks: pytest asks only plugins about session fixtures."""

    def __init__(self):
        self.scopes, self.items = [], []
        self.start = sandbox.processes.Process.__init__
        guard = self

        def checked_start(process, name, *args, **kwargs):
            item = guard.items[-1] if guard.items else None
            shared = guard.scopes and guard.scopes[-1] == "session"
            if item and not shared and not item.get_closest_marker("process"):
                raise AssertionError(f"{item.nodeid} starts {name}: mark it @pytest.mark.process")
            guard.start(process, name, *args, **kwargs)

        sandbox.processes.Process.__init__ = checked_start

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        self.scopes.append(fixturedef.scope)
        try:
            return (yield)
        finally:
            self.scopes.pop()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.items.append(item)
        try:
            return (yield)
        finally:
            self.items.pop()


def pytest_configure(config):
    config.pluginmanager.register(ProcessGuard(), "parley-process-guard")
    config.pluginmanager.register(redis_tier.Recorder(), "parley-redis-tier")


def pytest_runtest_makereport(item, call):
    if call.when == "call":
        item.failed_call = call.excinfo is not None


@pytest.fixture(scope="session")
def secantus():
    server = SecantusDB()
    yield server
    server.kill()  # in memory: nothing to keep, and a graceful stop takes two seconds


@pytest.fixture(scope="session")
def inbox():
    box = Inbox()
    yield box
    box.stop()


def namespace_env(name):
    return {"KEY_PREFIX": f"test-{name}:", "QUEUE_PREFIX": f"test-{name}."}


def clean_namespace(env):
    client = redis_at(env["REDIS_URL"])
    keys = list(client.scan_iter(env["KEY_PREFIX"] + "*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    try:
        connection = pika.BlockingConnection(pika.URLParameters(env["RABBITMQ_URL"]))
    except pika.exceptions.AMQPError:
        return
    channel = connection.channel()
    for queue in QUEUES:
        for name in (queue, queue + ".dead", queue + ".retry"):
            channel.queue_delete(env["QUEUE_PREFIX"] + name)
    connection.close()


@pytest.fixture(scope="session")
def redis_url():
    """The shared Redis; with PARLEY_TEST_REDIS=cluster, a local 3-node Redis Cluster of this run's own."""
    if os.environ.get("PARLEY_TEST_REDIS") != "cluster":
        yield "redis://127.0.0.1:6379/0"
        return
    cluster = PrivateRedisCluster()
    yield cluster.url
    cluster.stop()


@pytest.fixture(scope="session")
def base_env(secantus, inbox, redis_url, tmp_path_factory):
    """The environment of this run; in-process apps and subprocesses both use it."""
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": "test-secret-key-of-a-sensible-length",
        "JWT_SECRET_KEY": "test-jwt-secret-key-of-a-sensible-length",
        "MONGODB_URI": f"mongodb://127.0.0.1:{secantus.port}/parley_{RUN}?directConnection=true",
        "REDIS_URL": redis_url,
        "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
        "CLOUDAMQP_URL": "",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(inbox.port),
        "MAIL_USE_TLS": "",
        "MAIL_USE_SSL": "",
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_DEFAULT_SENDER": "Parley <no-reply@parley.test>",
        "CLOUDINARY_URL": "",
        "MAX_IMAGE_BYTES": "",
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "DEV_MAILBOX": str(tmp_path_factory.mktemp("mailbox")),
        # Every browser test signs in from 127.0.0.1; the per-IP limit has its own test.
        "SIGNIN_LIMIT_PER_IP": "100000 per hour",
        "SIGNIN_LIMIT_PER_EMAIL": "",
        "SIGNIN_RESEND_COOLDOWN": "",
        "WEB_CONCURRENCY": "1",
        "QUEUE_TYPE": "classic",
        **namespace_env(RUN),
    }
    os.environ.update(env)
    from app import create_app
    from app.data import indexes

    with create_app().app_context():
        indexes.create_all()
    yield env
    clean_namespace(env)


@pytest.fixture(autouse=True)
def apps_closed(request, monkeypatch):
    """Every app a test makes (in a fixture or in the test) closes its
    MongoDB client, Redis pool and publishing threads when the test ends:
    before the fixtures made ahead of it stop their servers (a MongoDB
    client closing against a stopped server waits seconds to say goodbye)."""
    from app import connections

    init_app = connections.init_app

    def init_and_note(app):
        init_app(app)
        request.node.addfinalizer(lambda: connections.close(app))

    monkeypatch.setattr(connections, "init_app", init_and_note)


@pytest.fixture
def queue_type(request):
    """The type of this test's queues: classic, or each in turn for tests marked each_queue_type."""
    return getattr(request, "param", "classic")


@pytest.fixture
def namespace(base_env, queue_type):
    """A Redis and queue namespace of this test's own, for tests that read queues or keys."""
    env = {**base_env, **namespace_env(f"{RUN}-{uuid.uuid4().hex[:6]}"), "QUEUE_TYPE": queue_type}
    yield env
    clean_namespace(env)


@pytest.fixture(scope="module")
def module_namespace(base_env):
    """A namespace the tests of one module share, with the processes they share."""
    env = {**base_env, **namespace_env(f"{RUN}-{uuid.uuid4().hex[:6]}")}
    yield env
    clean_namespace(env)


@pytest.fixture
def app(base_env):
    from app import create_app

    return create_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def processes(request, base_env):
    """Start gunicorn or the workers as subprocesses: processes.web(), processes.worker("chat")."""
    started = Processes(dict(os.environ, **base_env))
    yield started
    if getattr(request.node, "failed_call", False):
        print(started.report())
    started.stop_all()


@pytest.fixture(scope="module")
def module_processes(module_namespace):
    """gunicorn or the workers, shared by the tests of one module where the
    transport is the point and each test is a person of its own."""
    started = Processes(dict(os.environ, **module_namespace))
    yield started
    started.stop_all()


@pytest.fixture
def ns_app(namespace):
    """An app whose Redis keys and queues are this test's alone."""
    from app import create_app

    return create_app({name: namespace[name] for name in ("KEY_PREFIX", "QUEUE_PREFIX", "QUEUE_TYPE")})


@pytest.fixture
def ns_client(ns_app):
    return ns_app.test_client()


@pytest.fixture
def pair(ns_app):
    """Alice and Bob, each on a signed-in test client, with a chat between
    them: pair.alice, pair.bob (each with .user, .token, .cookies, .chat_url),
    pair.id (the chat's ObjectId) and pair.url."""
    return two_people_with_a_chat(ns_app)


@pytest.fixture
def pushes(ns_app):
    """What each person would receive, captured in this process instead of going through Redis."""
    return RecordedPushes().record(ns_app)


@pytest.fixture
def clock():
    """The app's clock, frozen at the start of the test: clock.advance(minutes=5)."""
    controlled = Clock()
    yield controlled
    controlled.restore()


@pytest.fixture
def private_redis():
    """A Redis of this test's own, for tests that stop it or count its commands."""
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_rabbit():
    """The run's one RabbitMQ node of its own, for tests that restart or block
    it (each leaves it running and well); it also speaks AMQPS, at `tls_url`."""
    certificates = Certificates()
    broker = PrivateRabbitMQ(certificates=certificates)
    yield broker
    broker.remove()
    certificates.remove()
