"""/healthz and /readyz: no session needed, nothing secret said, and /readyz
names the service that does not answer while it is down."""

import pytest

from tests.support.services import SecantusDB, wait_for


@pytest.fixture
def private_mongo():
    server = SecantusDB()
    yield server
    server.stop()


def test_healthz_asks_nothing_of_the_services(base_env):
    from app import create_app

    dead = "127.0.0.1:1"
    app = create_app(
        {
            "REDIS_URL": f"redis://{dead}/0",
            "RABBITMQ_URL": f"amqp://guest:guest@{dead}/%2F",
            "MONGODB_URI": f"mongodb://{dead}/parley?directConnection=true",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_names_the_stopped_service_and_recovers(base_env, private_redis, private_rabbit, private_mongo):
    from app import create_app

    app = create_app(
        {
            "REDIS_URL": private_redis.url,
            "RABBITMQ_URL": private_rabbit.url,
            "MONGODB_URI": private_mongo.url("parley"),
        }
    )
    client = app.test_client()

    def ready():
        response = client.get("/readyz")
        return response.status_code, response.json["services"]

    everything_ok = (200, {"redis": "ok", "rabbitmq": "ok", "mongodb": "ok"})
    assert wait_for(lambda: ready() == everything_ok, 20, what="ready")
    for name, server in (("redis", private_redis), ("rabbitmq", private_rabbit), ("mongodb", private_mongo)):
        server.stop()
        status, services = ready()
        assert status == 503 and services == {**everything_ok[1], name: "failed"}
        server.start()
        wait_for(lambda: ready() == everything_ok, 30, what=f"ready again after {name} came back")


def test_readyz_needs_no_session_and_reveals_no_setting(client, base_env):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for name in ("REDIS_URL", "RABBITMQ_URL", "MONGODB_URI", "SECRET_KEY", "JWT_SECRET_KEY"):
        assert base_env[name] not in body
    assert "guest" not in body and "127.0.0.1" not in body
