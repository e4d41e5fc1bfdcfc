"""/api/v1 in this process: the original system's routes, statuses and
shapes on Parley's services, and the holes of the original closed (each
`test_hole_N_...` fails on what the original did)."""

import io
import os
import re
import time

import pytest
from bson import ObjectId
from flask_jwt_extended import decode_token

from app.auth import session_store
from app.data import chats
from tests.support.api import API, FRONT_END, api_person, send_text, start_chat
from tests.support.people import image_bytes, unique_email
from tests.support.queues import code_in, publish, queued_jobs, run_chat_worker

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def api_app(namespace):
    from app import create_app

    names = ("KEY_PREFIX", "QUEUE_PREFIX", "QUEUE_TYPE")
    return create_app({**{name: namespace[name] for name in names}, "API_ORIGINS": (FRONT_END,)})


@pytest.fixture
def alice(api_app):
    return api_person(api_app, "alice")


@pytest.fixture
def bob(api_app):
    return api_person(api_app, "bob")


def cookie_header(response, name):
    return next((h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")), None)


# Signing in


def test_login_mails_an_8_digit_code_through_send_otp_and_verify_sets_both_cookies(api_app):
    client, email = api_app.test_client(), unique_email("ann")
    response = client.post(f"{API}/login", json={"email": email.upper()})
    assert response.status_code == 200 and response.json == {"message": "OTP sent successfully"}
    [mail] = queued_jobs(api_app, "send-otp")
    code = mail["values"]["code"]
    assert mail["to"] == email and mail["template"] == "signin_code" and re.fullmatch(r"\d{8}", code)
    wrong = client.post(f"{API}/verify", json={"email": email, "otp": "00000000" if code != "00000000" else "1"})
    assert wrong.status_code == 400 and "not right" in wrong.json["message"]
    response = client.post(f"{API}/verify", json={"email": email, "otp": code})
    assert response.status_code == 200 and response.json["message"] == "User Verified"
    user = response.json["user"]
    assert user["email"] == email and ObjectId.is_valid(user["_id"]) and ISO.match(user["createdAt"])
    for name in ("accessToken", "refreshToken"):
        header = cookie_header(response, name)
        assert "HttpOnly" in header and "Path=/" in header and "Domain" not in header and "SameSite=Lax" in header
    assert client.get(f"{API}/me").json["user"] == user
    assert client.post(f"{API}/verify", json={"email": email, "otp": code}).status_code == 400  # used


def test_login_refuses_a_bad_address_and_a_second_ask_within_the_cooldown(api_app):
    client = api_app.test_client()
    assert client.post(f"{API}/login", json={}).status_code == 400
    bad = client.post(f"{API}/login", json={"email": "not an address"})
    assert bad.status_code == 400 and bad.json["message"].startswith("Enter an email address")
    email = unique_email("cooldown")
    api_app.config["SIGNIN_RESEND_COOLDOWN"] = 30
    assert client.post(f"{API}/login", json={"email": email}).status_code == 200
    again = client.post(f"{API}/login", json={"email": email})
    assert again.status_code == 429 and "another in" in again.json["message"]


def test_pages_still_send_6_digit_codes(api_app):
    from tests.support.people import csrf_token

    client = api_app.test_client()
    client.post("/signin", data={"email": unique_email("page"), "csrf_token": csrf_token(client)})
    [mail] = queued_jobs(api_app, "send-otp")
    assert re.fullmatch(r"\d{6}", code_in(mail))


def test_signed_out_the_api_answers_401_with_a_message(api_app):
    client = api_app.test_client()
    for method, path in (("get", "/me"), ("post", "/user/all"), ("get", "/chat/all"), ("post", "/logout")):
        response = getattr(client, method)(API + path)
        assert response.status_code == 401 and response.json == {"message": "Sign in first."}


def test_logout_ends_the_session_for_the_api_and_its_pages(api_app, alice):
    page = api_app.test_client()
    for name, value in alice.cookies.items():
        page.set_cookie(name, value)
    assert page.get("/profile").status_code == 200
    response = alice.post(f"{API}/logout")
    assert response.status_code == 200 and response.json == {"message": "Logged out successfully"}
    assert cookie_header(response, "accessToken").startswith("accessToken=;")
    assert page.get("/profile").status_code == 303  # the same session, ended everywhere
    stale = api_app.test_client()
    for name, value in alice.cookies.items():
        stale.set_cookie(name, value)
    assert stale.get(f"{API}/me").status_code == 401


def test_hole_4_a_refresh_token_rotates_and_one_used_again_ends_the_session(api_app, alice, clock):
    response = alice.get(f"{API}/auth/refresh")
    assert response.status_code == 200 and response.json == {"message": "Access token refreshed"}
    with api_app.app_context():
        old, new = decode_token(alice.cookies["refreshToken"]), decode_token(
            cookie_header(response, "refreshToken").split(";")[0].split("=", 1)[1]
        )
    assert new["jti"] != old["jti"] and new["sid"] == old["sid"]
    clock.advance(seconds=session_store.ROTATION_GRACE + 1)
    thief = api_app.test_client()
    thief.set_cookie("refreshToken", alice.cookies["refreshToken"])  # the token before the rotation
    assert thief.get(f"{API}/auth/refresh").status_code == 401
    assert alice.get(f"{API}/me").status_code == 401  # the whole session is over


def test_hole_5_cross_site_cookies_are_secure_in_production(base_env):
    from config import load
    from tests.support.settings import PRODUCTION

    settings = load({**PRODUCTION, "API_ORIGINS": "https://chat.example.com"})
    assert settings["JWT_COOKIE_SAMESITE"] == "None" and settings["JWT_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "None" and settings["SESSION_COOKIE_SECURE"] is True
    assert load(PRODUCTION)["JWT_COOKIE_SAMESITE"] == "Lax"


def test_hole_6_update_user_keeps_the_token_out_of_the_body(alice):
    response = alice.post(f"{API}/update/user", json={"name": "Alice Liddell"})
    assert response.status_code == 200 and response.json["message"] == "User Updated"
    assert response.json["user"]["name"] == "Alice Liddell" and response.json["token"] is None
    assert alice.cookies["accessToken"] not in response.get_data(as_text=True)
    assert alice.post(f"{API}/update/user", json={"name": "x" * 51}).status_code == 400


# People


def test_hole_3_people_need_a_session_and_never_show_others_emails(api_app, alice, bob):
    stranger = api_app.test_client()
    assert stranger.get(f"{API}/user/{bob.user['_id']}").status_code == 401
    assert alice.get(f"{API}/user/{bob.user['_id']}").json == {"message": "Invalid User "}  # not a contact
    start_chat(alice, bob)
    seen = alice.get(f"{API}/user/{bob.user['_id']}").json["user"]
    assert seen["name"] == bob.user["name"] and seen["email"] == "hidden"
    listed = alice.post(f"{API}/user/all").json["users"]
    assert [person["_id"] for person in listed] == [str(bob.user["_id"])]
    assert all(person["email"] == "hidden" for person in listed)
    assert bob.user["email"] not in alice.post(f"{API}/user/all").get_data(as_text=True)


def test_user_all_follows_the_directory_setting(api_app, alice, bob):
    assert alice.post(f"{API}/user/all").json["users"] == []  # private: strangers only by their whole address
    found = alice.post(f"{API}/user/all?search={bob.user['email']}").json["users"]
    assert [person["_id"] for person in found] == [str(bob.user["_id"])]
    api_app.config["DIRECTORY"] = "open"
    assert str(bob.user["_id"]) in [person["_id"] for person in alice.post(f"{API}/user/all").json["users"]]
    assert alice.get(f"{API}/user/{bob.user['_id']}").json["user"]["email"] == "hidden"


# Chats


def test_hole_10_no_chat_with_yourself_or_with_nobody(alice, bob):
    assert alice.post(f"{API}/chat/new", json={"otherUserId": str(alice.user["_id"])}).status_code == 400
    assert alice.post(f"{API}/chat/new", json={"otherUserId": str(ObjectId())}).status_code == 404
    assert alice.post(f"{API}/chat/new", json={"otherUserId": "nonsense"}).status_code == 404
    first = alice.post(f"{API}/chat/new", json={"otherUserId": str(bob.user["_id"])}).json
    assert first["message"] == "New Chat Created"
    again = bob.post(f"{API}/chat/new", json={"otherUserId": str(alice.user["_id"])}).json
    assert again == {"messaeg": "Chat already exists", "chatId": first["chatId"]}


def test_a_new_chat_is_an_event_for_the_other_person(api_app, alice, bob):
    from tests.support.pushes import RecordedPushes

    pushes = RecordedPushes().record(api_app)
    chat_id = start_chat(alice, bob)
    assert pushes.events_to(bob.user["_id"], "chat") == [
        ["chat", {"chat_id": chat_id, "created_by": str(alice.user["_id"])}]
    ]
    assert pushes.events_to(alice.user["_id"], "presence") == [
        ["presence", {"user_id": str(bob.user["_id"]), "online": False}]
    ]


def test_hole_11_and_12_chat_all_is_latest_first_with_sender_and_sender_id(api_app, alice, bob):
    carol = api_person(api_app, "carol")
    older, newer = start_chat(alice, bob), start_chat(alice, carol)
    for chat_id, text in ((newer, "to carol"), (older, "to bob")):
        assert send_text(alice, chat_id, text).status_code == 201
        run_chat_worker(api_app)
    listed = alice.get(f"{API}/chat/all").json["chats"]
    assert [entry["chat"]["_id"] for entry in listed] == [older, newer]
    latest = listed[0]["chat"]["latestMessage"]
    assert latest == {"text": "to bob", "sender": str(alice.user["_id"]), "senderId": str(alice.user["_id"])}
    assert listed[0]["user"]["name"] == bob.user["name"] and listed[0]["chat"]["unseenCount"] == 0
    bobs = bob.get(f"{API}/chat/all").json["chats"]
    assert bobs[0]["chat"]["unseenCount"] == 1 and set(bobs[0]["chat"]["users"]) == {
        str(alice.user["_id"]),
        str(bob.user["_id"]),
    }


# Messages


def test_a_send_goes_the_pages_way_and_answers_with_the_message_listed(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    response = send_text(alice, chat_id, "  hello Bob  ")
    assert response.status_code == 201
    sent = response.json
    assert sent["message"]["text"] == "hello Bob" and sent["message"]["seen"] is False
    assert sent["sender"] == str(alice.user["_id"]) and sent["chat"]["_id"] == chat_id
    assert [m["_id"] for m in sent["messages"]] == [sent["message"]["_id"]]  # pending, listed at once
    assert sent["chat"]["latestMessage"]["text"] == "hello Bob"
    [job] = queued_jobs(api_app, "chat:messages")
    assert job["client_id"] == sent["message"]["_id"] and job["text"] == "hello Bob"
    publish(api_app, "chat:messages", job)
    run_chat_worker(api_app)
    history = bob.get(f"{API}/message/{chat_id}").json
    [saved] = history["messages"]
    assert saved["_id"] == sent["message"]["_id"] and saved["sender"] == str(alice.user["_id"])
    assert saved["messageType"] == "text" and ISO.match(saved["createdAt"]) and history["user"]["email"] == "hidden"


def test_an_idempotency_key_makes_a_repeated_send_one_message(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    first = send_text(alice, chat_id, "once", **{"Idempotency-Key": "abc"})
    second = send_text(alice, chat_id, "once", **{"Idempotency-Key": "abc"})
    assert first.json["message"]["_id"] == second.json["message"]["_id"]
    assert len(queued_jobs(api_app, "chat:messages")) == 1


def test_an_image_is_sent_and_its_url_is_absolute(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    data = {"chatId": chat_id, "text": "", "image": (io.BytesIO(image_bytes()), "red.png")}
    response = alice.post(f"{API}/message", data=data, content_type="multipart/form-data")
    assert response.status_code == 201
    image = response.json["message"]["image"]
    assert response.json["message"]["messageType"] == "image" and image["url"].startswith("http://localhost/chats/")
    assert alice.get(image["url"].removeprefix("http://localhost")).status_code == 200
    not_an_image = {"chatId": chat_id, "image": (io.BytesIO(b"hello"), "x.png")}
    refused = alice.post(f"{API}/message", data=not_an_image, content_type="multipart/form-data")
    assert refused.status_code == 400 and "image" in refused.json["message"]


def test_hole_8_a_stranger_image_is_refused_before_it_is_stored(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    mallory = api_person(api_app, "mallory")
    before = sum(len(files) for _, _, files in os.walk(api_app.config["UPLOAD_DIR"]))
    data = {"chatId": chat_id, "text": "hi", "image": (io.BytesIO(image_bytes()), "x.png")}
    response = mallory.post(f"{API}/message", data=data, content_type="multipart/form-data")
    assert response.status_code == 404 and response.json == {"message": "Chat not found"}
    assert sum(len(files) for _, _, files in os.walk(api_app.config["UPLOAD_DIR"])) == before
    assert queued_jobs(api_app, "chat:messages") == []


def test_hole_9_a_send_the_broker_did_not_take_is_503_not_201(api_app, alice, bob, monkeypatch):
    from app import broker

    chat_id = start_chat(alice, bob)

    def refuse(*args):
        raise broker.PublishError("no confirm")

    monkeypatch.setattr(api_app.extensions["publisher"], "publish", refuse)
    response = send_text(alice, chat_id, "lost?")
    assert response.status_code == 503 and "can't reach" in response.json["message"]


def test_sends_keep_the_pages_rules(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    assert send_text(alice, chat_id, "").status_code == 400
    assert send_text(alice, chat_id, "x" * 4001).status_code == 400
    with api_app.app_context():
        chats.block(ObjectId(chat_id), bob.user["_id"])
    blocked = send_text(alice, chat_id, "hello?")
    assert blocked.status_code == 403 and "not taking messages" in blocked.json["message"]


def test_hole_7_history_pages_by_cursor(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    for n in range(55):
        send_text(alice, chat_id, f"m{n}")
    run_chat_worker(api_app)
    first = bob.get(f"{API}/message/{chat_id}").json
    assert [m["text"] for m in first["messages"]] == [f"m{n}" for n in range(5, 55)]
    rest = bob.get(f"{API}/message/{chat_id}?cursor={first['nextCursor']}").json
    assert [m["text"] for m in rest["messages"]] == [f"m{n}" for n in range(5)] and rest["nextCursor"] is None
    assert bob.get(f"{API}/message/{chat_id}?cursor=99999999999999999999").status_code == 400


def test_hole_7_reading_marks_seen_only_for_a_request_from_an_allowed_site(api_app, alice, bob):
    from tests.support.pushes import RecordedPushes

    chat_id = start_chat(alice, bob)
    send_text(alice, chat_id, "seen?")
    run_chat_worker(api_app)
    bob.get(f"{API}/message/{chat_id}", headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    bob.get(f"{API}/message/{chat_id}", headers={"Sec-Fetch-Site": "cross-site"})  # an <img>, say
    assert bob.get(f"{API}/chat/all").json["chats"][0]["chat"]["unseenCount"] == 1
    pushes = RecordedPushes().record(api_app)
    read = bob.get(f"{API}/message/{chat_id}", headers={"Origin": FRONT_END}).json  # the original's GET marks seen
    assert read["messages"][0]["seen"] is True
    [seen] = pushes.events_to(alice.user["_id"], "seen")
    assert seen[1]["ids"] == [read["messages"][0]["_id"]]


def test_a_non_member_is_told_there_is_no_such_chat(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    mallory = api_person(api_app, "mallory")
    assert mallory.get(f"{API}/message/{chat_id}").status_code == 404
    assert mallory.get(f"{API}/message/nonsense").status_code == 404


# Where requests come from


def test_cors_with_credentials_for_configured_origins_only(alice):
    allowed = alice.options(
        f"{API}/message",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    other = alice.get(f"{API}/me", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_change_from_another_site_is_refused_in_place_of_a_csrf_token(api_app, alice, bob):
    chat_id = start_chat(alice, bob)
    evil = send_text(alice, chat_id, "forged", Origin="https://evil.example")
    assert evil.status_code == 403
    form_post = send_text(alice, chat_id, "forged", **{"Sec-Fetch-Site": "cross-site"})
    assert form_post.status_code == 403
    assert send_text(alice, chat_id, "mine", Origin=FRONT_END).status_code == 201
    assert send_text(alice, chat_id, "a bot's").status_code == 201  # no browser, no site to act for it
    assert len(queued_jobs(api_app, "chat:messages")) == 2


def test_pages_and_their_csrf_tokens_are_unchanged(api_app, alice):
    response = alice.post("/profile", data={"name": "No token"})
    assert response.status_code == 400  # pages still need their CSRF token


def test_hole_13_the_worker_rejects_a_bad_job_instead_of_redelivering_it(api_app, alice, bob):
    """The original nacked a failed job back onto the queue, forever; Parley's
    worker rejects a job that fails its checks (its consumer dead-letters it,
    test_chat_worker.py), and what the original kept in one process's memory
    is in Redis (test_api_events.py, with two web processes)."""
    from app.broker.consumer import Reject

    chat_id = start_chat(alice, bob)
    mallory = api_person(api_app, "mallory")
    job = {
        "client_id": "f" * 32,
        "chat_id": chat_id,
        "sender_id": str(mallory.user["_id"]),
        "text": "not a member",
        "image": None,
        "sent_at": "2026-12-03T10:00:00.000+00:00",
    }
    publish(api_app, "chat:messages", job)
    [failure] = run_chat_worker(api_app).values()
    assert isinstance(failure, Reject) and "not a member" in str(failure)
    assert queued_jobs(api_app, "chat:messages") == []


def test_unknown_api_paths_answer_json(api_app, alice):
    response = alice.get(f"{API}/nothing/here")
    assert response.status_code == 404 and response.json == {"message": "We could not find that page."}
    assert time.time()  # answered at once
