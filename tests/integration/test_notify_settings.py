"""Profile → Notifications (plain forms, with htmx too), the email's preview,
and one-click unsubscribe without a session."""

import re

import pytest

import config
from app.connections import db, redis_client
from app.data import subscriptions, users
from app.notifications import schedule
from app.notifications.letters import unsubscribe_token
from app.people import accounts
from tests.support.people import HTMX, person, say
from tests.support.queues import run_chat_worker


def notify_of(app, client):
    with app.app_context():
        return users.get(client.user["_id"]).get("notify") or {}


def checked(html):
    return re.findall(r'<input type="(?:radio|checkbox)" id="([\w-]+)"[^>]*\bchecked', html)


def test_profile_offers_the_timing_the_text_choice_and_a_preview(ns_app):
    bob = person(ns_app, "bob")
    html = bob.get("/profile").get_data(as_text=True)
    assert '<h2 id="notifications-heading">Notifications</h2>' in html
    assert "<legend>Email me about messages I have not seen</legend>" in html
    labels = re.findall(r'<label for="email-[\w]+">([^<]+)</label>', html)
    assert labels == ["Within 5 minutes", "Within 10 minutes", "Within an hour", "Once a day", "Never"]
    assert '<label for="hide-text">Don\'t include message text</label>' in html
    assert checked(html) == ["email-default"]
    assert 'title="Preview of the email"' in html and "You have 2 new messages in Parley, from Ada Lovelace." in html
    assert "Notify me in this browser" not in html  # no VAPID key in the tests' settings: Web Push is off


def test_the_settings_are_saved_with_a_plain_form(ns_app):
    bob = person(ns_app, "bob")
    response = bob.post("/profile/notifications", data={"email": "1h", "hide_text": "1", "csrf_token": bob.token})
    assert response.status_code == 303 and response.headers["Location"] == "/profile#notifications"
    assert notify_of(ns_app, bob) == {"email": "1h", "text": False}
    html = bob.get("/profile").get_data(as_text=True)
    assert "Your notification settings are saved." in html
    assert checked(html) == ["email-1h", "hide-text"]
    assert "Are you free for a call" not in html  # the preview leaves the text out too
    bob.post("/profile/notifications", data={"email": "never", "csrf_token": bob.token})
    assert notify_of(ns_app, bob) == {"email": "never", "text": True}


def test_with_htmx_the_form_comes_back_and_says_so(ns_app):
    bob = person(ns_app, "bob")
    response = bob.post("/profile/notifications", data={"email": "5m", "csrf_token": bob.token}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<form id="notifications-form"')
    assert '<div id="notifications-status" hx-swap-oob="innerHTML">Your notification settings are saved.</div>' in html
    assert 'id="notifications-preview" hx-swap-oob="innerHTML"' in html and checked(html) == ["email-5m"]


def test_an_unknown_timing_is_refused(ns_app):
    bob = person(ns_app, "bob")
    assert bob.post("/profile/notifications", data={"email": "1s", "csrf_token": bob.token}).status_code == 400
    assert notify_of(ns_app, bob) == {}


def test_the_preview_is_a_document_of_its_own_with_no_script(ns_app):
    bob = person(ns_app, "bob")
    response = bob.get("/profile/notifications/preview")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "script-src" not in csp
    assert "frame-ancestors 'self'" in csp and response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "<h1>2 new messages from Ada Lovelace</h1>" in response.get_data(as_text=True)


def test_the_operator_can_turn_text_off_for_everyone(ns_app):
    ns_app.config["MISSED_MESSAGE_TEXT"] = False
    bob = person(ns_app, "bob")
    html = bob.get("/profile").get_data(as_text=True)
    assert re.search(r'id="hide-text"[^>]*checked disabled', html)
    assert "This Parley never puts message text in emails." in html
    bob.post("/profile/notifications", data={"email": "1h", "csrf_token": bob.token})  # the box sends nothing
    assert notify_of(ns_app, bob) == {"email": "1h"}  # their own text choice is not changed


def unsubscribe_url(app, client):
    with app.test_request_context():
        return "/unsubscribe/" + unsubscribe_token(client.user["_id"])


def test_one_click_unsubscribe_works_without_a_session_and_changes_only_that(ns_app):
    bob = person(ns_app, "bob")
    bob.post("/profile/notifications", data={"email": "1h", "hide_text": "1", "csrf_token": bob.token})
    url = unsubscribe_url(ns_app, bob)
    stranger = ns_app.test_client()  # a mail client: no cookie, no CSRF token
    asking = stranger.get(url).get_data(as_text=True)
    assert "Stop emails about missed messages?" in asking and bob.user["email"] in asking
    assert notify_of(ns_app, bob)["email"] == "1h"  # a GET (a link scanner) changes nothing
    done = stranger.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "Parley will not email" in done.get_data(as_text=True) and "Nothing else has changed." in done.get_data(
        as_text=True
    )
    assert notify_of(ns_app, bob) == {"email": "never", "text": False}
    assert bob.get("/profile").status_code == 200  # still signed in, nothing else touched


@pytest.mark.parametrize("token", ["nonsense", "eyJhIjoxfQ.forged"])
def test_a_token_that_is_not_ours_changes_nothing(ns_app, token):
    response = ns_app.test_client().post(f"/unsubscribe/{token}")
    assert response.status_code == 404 and "This link does not work" in response.get_data(as_text=True)


def test_a_token_made_with_another_secret_is_refused(ns_app):
    bob = person(ns_app, "bob")
    url = unsubscribe_url(ns_app, bob)
    ns_app.config["SECRET_KEY"] = "another-secret-key-of-a-sensible-length"
    assert ns_app.test_client().post(url).status_code == 404
    assert notify_of(ns_app, bob) == {}


def test_export_and_deletion_include_the_settings_browsers_and_checks(pair, ns_app, clock):
    bob = pair.bob
    ns_app.config["VAPID_PRIVATE_KEY"] = config.new_vapid_key()
    bob.post("/profile/notifications", data={"email": "1h", "hide_text": "1", "csrf_token": bob.token})
    endpoint = "https://updates.push.services.mozilla.com/wpush/v2/gAAAA"
    bob.post(
        "/profile/notifications/browsers",
        json={"endpoint": endpoint, "keys": {"p256dh": "BPub", "auth": "c2VjcmV0"}},
        headers={**HTMX, "X-CSRFToken": bob.token},
    )
    say(pair.alice, "Hello")
    run_chat_worker(ns_app)
    with ns_app.app_context():
        user = users.get(bob.user["_id"])
        exported = accounts.export(user)
        assert exported["notifications"] == {
            "email": "Within an hour",
            "include_message_text": False,
            "browsers": [{"push_service": "updates.push.services.mozilla.com", "since": clock.at.isoformat()}],
        }
        assert redis_client().zscore(schedule.due_key(), f"mail:{user['_id']}") is not None
        accounts.delete(user)
        assert subscriptions.of(user["_id"]) == []
        assert redis_client().zscore(schedule.due_key(), f"mail:{user['_id']}") is None
        assert chats_waiting_for(user["_id"]) == []


def chats_waiting_for(user_id):
    return list(db().chats.find({"unmailed": user_id}))
