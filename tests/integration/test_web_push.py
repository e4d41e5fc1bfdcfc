"""Web Push ("Notify me in this browser"): subscriptions only from the push
services browsers use, and notifications sent with pywebpush to a loopback
push service that checks their VAPID signature and decrypts them."""

import pytest

import config
from app.data import subscriptions, users
from app.notifications import browsers
from tests.support.people import FROM_HERE, HTMX, say
from tests.support.queues import run_chat_worker, run_notify_worker
from tests.support.services import Certificates, FakePushService

PUSH_AFTER = 5


@pytest.fixture(scope="module")
def certificates():
    made = Certificates()
    yield made
    made.remove()


@pytest.fixture
def push_service(ns_app, certificates, monkeypatch):
    """Web Push on, with the loopback service taken for one of the known ones."""
    ns_app.config["VAPID_PRIVATE_KEY"] = config.new_vapid_key()
    with ns_app.app_context():
        key = browsers.public_key()
    service = FakePushService(certificates, key)
    monkeypatch.setattr(browsers, "SERVICES", (*browsers.SERVICES, "127.0.0.1"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificates.ca)  # requests trusts the run's authority
    yield service
    service.stop()


def add_browser(client, subscription):
    return client.post(
        "/profile/notifications/browsers", json=subscription, headers={**HTMX, "X-CSRFToken": client.token}
    )


def browsers_of(app, client):
    """(the endpoints of the person's browsers, their notify.browsers count)."""
    with app.app_context():
        found = [subscription["endpoint"] for subscription in subscriptions.of(client.user["_id"])]
        return found, (users.get(client.user["_id"]).get("notify") or {}).get("browsers", 0)


GOOD_KEYS = {"p256dh": "BPub", "auth": "c2VjcmV0"}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://127.0.0.1:8443/push/abc",  # not a push service
        "https://internal.example/admin",
        "https://fcm.googleapis.com.evil.example/x",
        "https://evil.example/.notify.windows.com",
        "https://user:pass@fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com:99999/x",
        "file:///etc/passwd",
    ],
)
def test_only_the_push_services_browsers_use_are_taken(pair, ns_app, endpoint):
    ns_app.config["VAPID_PRIVATE_KEY"] = config.new_vapid_key()
    response = add_browser(pair.bob, {"endpoint": endpoint, "keys": GOOD_KEYS})
    assert response.status_code == 422
    assert browsers_of(ns_app, pair.bob) == ([], 0)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
    ],
)
def test_the_known_push_services_are_taken(pair, ns_app, endpoint):
    ns_app.config["VAPID_PRIVATE_KEY"] = config.new_vapid_key()
    response = add_browser(pair.bob, {"endpoint": endpoint, "keys": GOOD_KEYS})
    assert response.status_code == 200 and "This browser will notify you" in response.get_data(as_text=True)
    assert browsers_of(ns_app, pair.bob) == ([endpoint], 1)
    add_browser(pair.alice, {"endpoint": endpoint, "keys": GOOD_KEYS})  # the browser is Alice's now
    assert browsers_of(ns_app, pair.bob) == ([], 0) and browsers_of(ns_app, pair.alice) == ([endpoint], 1)


def test_without_a_vapid_key_web_push_is_off(pair, ns_app):
    response = add_browser(pair.bob, {"endpoint": "https://fcm.googleapis.com/fcm/send/a", "keys": GOOD_KEYS})
    assert response.status_code == 422 and "Notify me in this browser" not in pair.bob.get("/profile").get_data(
        as_text=True
    )


def test_a_notification_says_who_and_what_and_opens_the_chat(pair, ns_app, push_service, clock):
    browser = push_service.subscribe()
    assert add_browser(pair.bob, browser).status_code == 200
    assert "Notify me in this browser" in pair.bob.get("/profile").get_data(as_text=True)
    say(pair.alice, "Lunch at one?")
    run_chat_worker(ns_app)
    clock.advance(seconds=PUSH_AFTER - 1)
    run_notify_worker(ns_app)
    assert push_service.received == {}
    clock.advance(seconds=1)
    run_notify_worker(ns_app)
    assert push_service.refused == []
    assert push_service.received == {
        browser["endpoint"]: [
            {"title": pair.alice.user["name"], "body": "Lunch at one?", "tag": str(pair.id), "url": pair.url + "/new"}
        ]
    }
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)  # told once
    assert len(push_service.received[browser["endpoint"]]) == 1


def test_nothing_is_pushed_for_a_message_read_at_once(pair, ns_app, push_service, clock):
    add_browser(pair.bob, push_service.subscribe())
    say(pair.alice, "Hello")
    run_chat_worker(ns_app)
    pair.bob.get(pair.url, headers=FROM_HERE)
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)
    assert push_service.received == {}


def test_the_text_choice_is_kept_and_a_block_is_respected(pair, ns_app, push_service, clock):
    browser = push_service.subscribe()
    add_browser(pair.bob, browser)
    pair.bob.post("/profile/notifications", data={"email": "default", "hide_text": "1", "csrf_token": pair.bob.token})
    say(pair.alice, "My secret plan")
    say(pair.alice, "Part two")
    run_chat_worker(ns_app)
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)
    [notification] = push_service.received[browser["endpoint"]]
    assert notification["body"] == "2 new messages"
    say(pair.alice, "Another")
    run_chat_worker(ns_app)
    pair.bob.post(pair.url + "/block", data={"csrf_token": pair.bob.token})
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)
    assert len(push_service.received[browser["endpoint"]]) == 1


def test_a_subscription_the_service_says_is_gone_is_removed(pair, ns_app, push_service, clock):
    browser = push_service.subscribe()
    add_browser(pair.bob, browser)
    push_service.gone.add(browser["endpoint"])
    say(pair.alice, "Hello")
    run_chat_worker(ns_app)
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)
    assert browsers_of(ns_app, pair.bob) == ([], 0)


def test_stopping_a_browser_removes_only_that_one(pair, ns_app, push_service):
    first, second = push_service.subscribe(), push_service.subscribe()
    add_browser(pair.bob, first)
    add_browser(pair.bob, second)
    response = pair.bob.post(
        "/profile/notifications/browsers/remove",
        json={"endpoint": first["endpoint"]},
        headers={**HTMX, "X-CSRFToken": pair.bob.token},
    )
    assert "This browser will no longer notify you." in response.get_data(as_text=True)
    assert browsers_of(ns_app, pair.bob) == ([second["endpoint"]], 1)
    pair.alice.post(
        "/profile/notifications/browsers/remove",
        json={"endpoint": second["endpoint"]},
        headers={**HTMX, "X-CSRFToken": pair.alice.token},
    )  # not hers
    assert browsers_of(ns_app, pair.bob) == ([second["endpoint"]], 1)


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/notify-worker.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert "notificationclick" in response.get_data(as_text=True)


def test_the_service_refuses_a_notification_signed_with_another_key(pair, ns_app, push_service, clock):
    """The stand-in checks what a real push service checks: the key that subscribed must sign."""
    add_browser(pair.bob, push_service.subscribe())
    ns_app.config["VAPID_PRIVATE_KEY"] = config.new_vapid_key()
    say(pair.alice, "Hello")
    run_chat_worker(ns_app)
    clock.advance(seconds=PUSH_AFTER)
    run_notify_worker(ns_app)
    assert push_service.received == {} and len(push_service.refused) == 1
