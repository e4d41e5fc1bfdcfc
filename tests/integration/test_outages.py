"""When Redis, RabbitMQ or MongoDB cannot be reached, every page and form
answers 503 with one clear message, and a message being sent is kept."""

import pytest

from app import create_app, outages
from tests.support.people import HTMX, client_id, csrf_token, unique_email
from tests.support.services import free_port


@pytest.fixture
def broken(ns_app, pair):
    """broken(**settings): Alice's client on an app whose services are as given."""

    def make(**settings):
        app = create_app({"KEY_PREFIX": ns_app.config["KEY_PREFIX"], **settings})
        client = app.test_client()
        for name, value in pair.alice.cookies.items():
            client.set_cookie(name, value)
        client.chat_url, client.token = pair.url, pair.alice.token
        return client

    return make


def assert_unavailable(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(outages.RETRY_AFTER)
    assert outages.MESSAGE.replace("'", "&#39;") in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "down",
    [
        {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
        {"MONGODB_URI": f"mongodb://127.0.0.1:{free_port()}/parley?directConnection=true&serverSelectionTimeoutMS=300"},
    ],
    ids=["Redis", "MongoDB"],
)
def test_pages_answer_503_with_a_clear_message(pair, broken, down):
    alice = broken(**down)
    page = alice.get(alice.chat_url)
    assert_unavailable(page)
    form = {"client_id": "c" * 32, "text": "Keep me", "csrf_token": alice.token}
    draft = alice.post(alice.chat_url + "/messages", data=form)
    assert_unavailable(draft)
    html = draft.get_data(as_text=True)
    assert ">Keep me</textarea>" in html and 'value="' + "c" * 32 + '"' in html  # to send again, once
    fragment = alice.post(alice.chat_url + "/messages", data=form, headers=HTMX)
    assert_unavailable(fragment)
    assert fragment.headers["HX-Retarget"] == "#alerts"


def test_signing_in_answers_503_while_redis_is_down(ns_app):
    app = create_app({"KEY_PREFIX": ns_app.config["KEY_PREFIX"], "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    client = app.test_client()
    response = client.post("/signin", data={"email": unique_email(), "csrf_token": csrf_token(client)})
    assert_unavailable(response)


def test_a_send_the_broker_may_have_is_kept_and_sending_it_again_is_harmless(pair, ns_app, monkeypatch, pushes):
    from app import broker
    from app.chats.sending import pending
    from tests.support.queues import queued_jobs, run_chat_worker

    published = []

    def lost_on_the_way(name, payload):
        published.append(payload)
        raise broker.PublishError("connection lost", maybe_queued=True)

    alice = pair.alice
    page = alice.get(alice.chat_url).get_data(as_text=True)
    data = {"client_id": client_id(page), "text": "Did it go?", "csrf_token": alice.token}
    monkeypatch.setattr(pending.broker, "publish", lost_on_the_way)
    assert alice.post(alice.chat_url + "/messages", data=data, headers=HTMX).status_code == 503
    shown = alice.get(alice.chat_url).get_data(as_text=True)
    assert f'id="m-{data["client_id"]}"' in shown and ">Not sent<" in shown  # kept, and said so
    monkeypatch.undo()
    assert alice.post(alice.chat_url + "/messages", data=data, headers=HTMX).status_code == 200  # sent again
    assert len(queued_jobs(ns_app, "chat:messages")) == 1
    from tests.support.queues import publish

    publish(ns_app, "chat:messages", published[0])  # the first try did reach the broker after all
    publish(ns_app, "chat:messages", published[0])
    run_chat_worker(ns_app)
    assert alice.get(alice.chat_url).get_data(as_text=True).count(f'id="m-{data["client_id"]}"') == 1
    assert ">Sent<" in pushes.to(alice.user["_id"])
