"""People, chats and sending, through HTTP on real services (the worker runs where needed)."""

import io
import os
import re
import threading
import uuid
from datetime import UTC

import pytest
from bson import ObjectId
from PIL import Image

from app import outages
from app.connections import db
from app.data import messages
from tests.support.people import HTMX, client_id, errors_in, image_bytes, person, send, signed_in, unique_email
from tests.support.queues import queued_jobs


def stored_images(app, client):
    folder = os.path.join(app.config["UPLOAD_DIR"], client.chat_url.rsplit("/", 1)[1])
    return os.listdir(folder) if os.path.isdir(folder) else []


def test_chat_with_someone_opens_the_one_chat_for_the_pair(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    again = bob.post("/chats", data={"user_id": str(alice.user["_id"]), "csrf_token": bob.token})
    assert again.headers["Location"] == alice.chat_url
    page = bob.get(bob.chat_url).get_data(as_text=True)
    assert re.search(r'<h1 id="chat-heading"><bdi>alice-[0-9a-f]{8}</bdi></h1>', page)
    assert 'role="log" aria-label="Messages"' in page
    assert "This is the start of your conversation with <bdi>alice" in page


def test_two_people_starting_the_same_chat_at_once_get_one_chat(ns_app):
    first, second = ns_app.test_client(), ns_app.test_client()
    first.user, first.token = signed_in(ns_app, first, unique_email("p"))
    second.user, second.token = signed_in(ns_app, second, unique_email("q"))
    barrier, locations = threading.Barrier(2), []

    def start(client, other):
        barrier.wait()
        response = client.post("/chats", data={"user_id": str(other.user["_id"]), "csrf_token": client.token})
        locations.append(response.headers["Location"])

    threads = [threading.Thread(target=start, args=args) for args in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(locations)) == 1
    with ns_app.app_context():
        members = sorted([first.user["_id"], second.user["_id"]])
        assert db().chats.count_documents({"members": {"$all": members}}) == 1


def test_starting_a_chat_with_nobody_or_yourself_is_not_found(pair):
    alice = pair.alice
    for user_id in (str(ObjectId()), "not-an-id", str(alice.user["_id"])):
        assert alice.post("/chats", data={"user_id": user_id, "csrf_token": alice.token}).status_code == 404


def test_non_members_and_unknown_chats_get_404_everywhere(pair, ns_app):
    alice = pair.alice
    eve = ns_app.test_client()
    eve.user, eve.token = signed_in(ns_app, eve, unique_email("eve"))
    chat_id = alice.chat_url.rsplit("/", 1)[1]
    for path in (f"/chats/{chat_id}", f"/chats/{chat_id}/messages?older_than=5", f"/chats/{chat_id}/images/x.png"):
        assert eve.get(path).status_code == 404
    response = eve.post(
        f"/chats/{chat_id}/messages", data={"client_id": "a" * 32, "text": "hi", "csrf_token": eve.token}
    )
    assert response.status_code == 404
    for chat in (str(ObjectId()), "not-an-objectid", "0" * 24):
        assert alice.get(f"/chats/{chat}").status_code == 404
        assert "We could not find that page." in alice.get(f"/chats/{chat}").get_data(as_text=True)
    assert queued_jobs(ns_app, "chat:messages") == []


def test_sending_with_htmx_queues_one_job_and_the_page_shows_it_sending(pair, ns_app):
    alice = pair.alice
    response = send(alice, "Hello Bob", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello Bob" not in html  # the page shows its own "Sending" bubble until the worker's push
    assert 'hx-target="#client-id" hx-swap="outerHTML"' in html  # a new client_id for the next message
    page = alice.get(alice.chat_url).get_data(as_text=True)
    assert re.search(r'status-sending".*?Hello Bob.*?<p class="message-status">Sending</p>', page, re.S)
    [job] = queued_jobs(ns_app, "chat:messages")
    assert set(job) == {"client_id", "chat_id", "sender_id", "text", "image", "sent_at", "request_id"}
    assert job["text"] == "Hello Bob" and job["sender_id"] == str(alice.user["_id"]) and job["image"] is None


def test_a_double_submit_queues_the_message_once(pair, ns_app):
    alice = pair.alice
    page = alice.get(alice.chat_url).get_data(as_text=True)
    data = {"client_id": client_id(page), "text": "Only once", "csrf_token": alice.token}
    first = alice.post(alice.chat_url + "/messages", data=data, headers=HTMX)
    second = alice.post(alice.chat_url + "/messages", data=data, headers=HTMX)
    assert first.status_code == second.status_code == 200
    assert len(queued_jobs(ns_app, "chat:messages")) == 1


def test_without_javascript_a_send_redirects_back_and_shows_the_message_sending(pair, ns_app):
    alice = pair.alice
    response = send(alice, "No script here")
    assert response.status_code == 303
    assert response.headers["Location"] == alice.chat_url + "#composer"
    page = alice.get(alice.chat_url).get_data(as_text=True)
    assert "No script here" in page and "Sending" in page  # not yet saved by the worker


@pytest.mark.parametrize(
    "text, upload, message",
    [
        ("", None, "Write a message or attach an image."),
        ("   \n  ", None, "Write a message or attach an image."),
        ("x" * 4001, None, "A message can be at most 4,000 characters; this one has 4,001."),
        ("big", ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (6 * 1024 * 1024)), "The image is larger than 5 MB."),
        ("fake", ("notes.png", b"just some text, not an image"), "That file is not an image we can show."),
        ("bmp", ("old.bmp", "BMP"), "Attach a JPEG, PNG, GIF or WebP image."),
    ],
)


def test_bad_messages_get_a_clear_answer_keep_the_draft_and_store_nothing(pair, ns_app, text, upload, message):
    alice = pair.alice
    fields = {}
    if upload:
        name, content = upload
        content = image_bytes(content) if content == "BMP" else content
        fields["image"] = (io.BytesIO(content), name)
    response = send(alice, text, headers=HTMX, **fields)
    assert response.status_code == 422
    [error] = errors_in(response.get_data(as_text=True))
    assert error.startswith(message)
    assert "composer-error" in response.get_data(as_text=True) and "<textarea" not in response.get_data(as_text=True)
    if upload:
        fields["image"] = (io.BytesIO(content), name)
    page = send(alice, text, **fields)  # without JavaScript: the page again, the draft in the form
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert errors_in(html)[0].startswith(message)
    if text.strip() and len(text) < 100:
        assert f">{text.strip()}</textarea>" in html
    if upload:
        assert "Attach the image again." in html
    assert queued_jobs(ns_app, "chat:messages") == []
    assert stored_images(ns_app, alice) == []


def test_a_missing_csrf_token_is_refused(pair, ns_app):
    alice = pair.alice
    page = alice.get(alice.chat_url).get_data(as_text=True)
    response = alice.post(alice.chat_url + "/messages", data={"client_id": client_id(page), "text": "hi"}, headers=HTMX)
    assert response.status_code == 400 and response.headers["HX-Retarget"] == "#alerts"
    assert queued_jobs(ns_app, "chat:messages") == []


def test_when_the_broker_cannot_take_the_message_the_draft_stays(pair, ns_app):
    from app.broker.publisher import Publisher

    alice = pair.alice
    ns_app.extensions["publisher"] = Publisher("amqp://guest:guest@127.0.0.1:1/%2F", "classic", confirm_timeout=2)
    response = send(alice, "Please arrive", headers=HTMX, image=(io.BytesIO(image_bytes()), "a.png"))
    assert response.status_code == 503
    assert errors_in(response.get_data(as_text=True)) == [outages.MESSAGE]
    page = send(alice, "Please arrive")
    assert page.status_code == 503 and ">Please arrive</textarea>" in page.get_data(as_text=True)
    html = alice.get(alice.chat_url).get_data(as_text=True)
    assert "Please arrive" not in html.split("<textarea")[0]  # no ghost "Sending" message
    assert stored_images(ns_app, alice) == []


@pytest.mark.parametrize(
    "kind, mimetype", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")]
)


def test_images_are_stored_locally_and_served_only_to_members(pair, ns_app, kind, mimetype):
    alice, bob = pair.alice, pair.bob
    response = send(alice, "", headers=HTMX, alt="A red square", image=(io.BytesIO(image_bytes(kind)), "pic.bin"))
    assert response.status_code == 200
    [job] = queued_jobs(ns_app, "chat:messages")
    image = job["image"]
    assert (image["width"], image["height"], image["alt"]) == (4, 3, "A red square")
    for member in (alice, bob):
        served = member.get(image["url"])
        assert served.status_code == 200
        assert served.mimetype == mimetype
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert Image.open(io.BytesIO(served.data)).size == (4, 3)  # encoded afresh: see test_images.py
    eve = ns_app.test_client()
    signed_in(ns_app, eve, unique_email("eve"))
    assert eve.get(image["url"]).status_code == 404
    assert ns_app.test_client().get(image["url"]).status_code == 303  # signed out


def test_images_go_to_cloudinary_with_a_signed_upload(pair, ns_app):
    from tests.support.services import FakeCloudinary

    fake = FakeCloudinary()
    ns_app.config["CLOUDINARY_URL"] = fake.url
    alice = pair.alice
    try:
        response = send(alice, "look", headers=HTMX, image=(io.BytesIO(image_bytes("JPEG")), "photo.jpg"))
        assert response.status_code == 200
        [upload] = fake.uploads
        assert Image.open(io.BytesIO(upload["file"])).format == "JPEG"
        assert upload["form"]["folder"].startswith("parley/")
        [job] = queued_jobs(ns_app, "chat:messages")
        assert job["image"]["url"].startswith("https://res.cloudinary.com/demo/image/upload/")
        ns_app.config["CLOUDINARY_URL"] = fake.url.replace("s3cret", "wrong")
        refused = send(alice, "again", headers=HTMX, image=(io.BytesIO(image_bytes("JPEG")), "photo.jpg"))
        assert fake.refused == 1 and refused.status_code == 503
        assert errors_in(refused.get_data(as_text=True)) == ["We could not store your image, try again."]
        assert queued_jobs(ns_app, "chat:messages") == []
    finally:
        fake.stop()


def test_history_pages_back_by_cursor_newest_fifty_first(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    chat_id = ObjectId(alice.chat_url.rsplit("/", 1)[1])
    with ns_app.app_context():
        save_history(chat_id, alice.user["_id"], bob.user["_id"], 120)
    page = bob.get(bob.chat_url).get_data(as_text=True)
    shown = re.findall(r"message-text\" dir=\"auto\">message (\d+)<", page)
    assert shown == [str(n) for n in range(71, 121)]  # the newest 50, oldest at the top
    before = re.search(r'name="older_than" value="(\d+)"', page).group(1)
    assert before == "71"
    older = bob.get(f"{bob.chat_url}/messages?older_than={before}", headers=HTMX).get_data(as_text=True)
    assert re.findall(r"message (\d+)<", older) == [str(n) for n in range(21, 71)]
    assert 'hx-target="#messages-' in older and 'hx-swap="upsert"' in older
    oldest = bob.get(f"{bob.chat_url}/messages?older_than=21", headers=HTMX).get_data(as_text=True)
    assert re.findall(r"message (\d+)<", oldest) == [str(n) for n in range(1, 21)]
    assert "This is the start of your conversation" in oldest and "Load earlier messages" not in oldest
    no_script = bob.get(f"{bob.chat_url}?older_than=21").get_data(as_text=True)  # the plain form's GET
    assert re.findall(r"message-text\" dir=\"auto\">message (\d+)<", no_script) == [str(n) for n in range(1, 21)]


def save_history(chat_id, alice_id, bob_id, count):
    from datetime import datetime, timedelta

    from app.chats import present
    from app.data import chats

    start = datetime.now(UTC) - timedelta(hours=1)
    docs = [
        {
            "chat_id": chat_id,
            "seq": n,
            "sender_id": alice_id,
            "receiver_id": bob_id,
            "client_id": ObjectId().binary.hex().ljust(32, "0"),
            "text": f"message {n}",
            "image": None,
            "seen_at": None,
            "created_at": start + timedelta(seconds=n),
        }
        for n in range(1, count + 1)
    ]
    messages.save_all(docs)
    chats.record_messages({chat_id: present.latest_message(docs[-1])}, {})


def test_a_message_shown_not_sent_offers_retry_and_delete_that_work_without_javascript(pair, ns_app, monkeypatch):
    from app import broker
    from app.chats.sending import pending

    def lost_on_the_way(name, payload):
        raise broker.PublishError("connection lost", maybe_queued=True)

    alice = pair.alice
    monkeypatch.setattr(pending.broker, "publish", lost_on_the_way)
    for text in ("Try me again", "Forget me"):
        assert send(alice, text, headers=HTMX).status_code == 503
    page = alice.get(alice.chat_url).get_data(as_text=True)
    assert len(re.findall(r'action="/chats/[0-9a-f]{24}/unsent/[0-9a-f]{32}"', page)) == 2

    def form_for(text):
        return re.search(text + r'<.*?action="(/chats/[0-9a-f]{24}/unsent/([0-9a-f]{32}))"', page, re.S).groups()

    (retry_url, retry_id), (delete_url, _) = form_for("Try me again"), form_for("Forget me")
    assert alice.post(retry_url, data={"action": "retry", "csrf_token": alice.token}).status_code == 303
    assert "Parley can" in alice.get(alice.chat_url).get_data(as_text=True)  # still not sent, and said why
    monkeypatch.undo()
    response = alice.post(retry_url, data={"action": "retry", "csrf_token": alice.token})
    assert response.status_code == 303 and response.headers["Location"].endswith("#composer")
    assert [job["client_id"] for job in queued_jobs(ns_app, "chat:messages")] == [retry_id]
    assert alice.post(delete_url, data={"action": "delete", "csrf_token": alice.token}).status_code == 303
    page = alice.get(alice.chat_url).get_data(as_text=True)
    assert "Forget me" not in page and "Try me again" in page and ">Not sent<" not in page
    eve = person(ns_app, "eve")
    assert eve.post(retry_url, data={"action": "retry", "csrf_token": eve.token}).status_code == 404


def test_out_of_range_history_pages_are_bad_requests_not_errors(pair):
    for value in ("99999999999999999999", str(2**64), "-5", "0", "1e3", "²", "9" * 5000):
        response = pair.alice.get(f"{pair.url}?older_than={value}")
        assert response.status_code == 400, value
        assert "We could not understand that request." in response.get_data(as_text=True)
        assert pair.alice.get(f"{pair.url}/messages?older_than={value}", headers=HTMX).status_code == 400
    assert pair.alice.get(f"{pair.url}?older_than={2**53}").status_code == 200  # past the newest: the newest page


def test_chat_ids_cannot_be_guessed_from_earlier_ones(ns_app):
    me = signed_in_person(ns_app, "me")
    ids = [int(start_chat_with(ns_app, me), 16) for _ in range(5)]
    # The server's own ids came two apart; random ones are nowhere near each other.
    assert all(abs(b - a) > 2**64 for a, b in zip(ids, ids[1:]))


def test_a_chat_asked_for_before_it_exists_is_found_once_it_does(pair, ns_app):
    from app.data import chats

    eve = signed_in_person(ns_app, "eve")
    future = ObjectId()
    assert eve.get(f"/chats/{future}").status_code == 404
    assert pair.alice.get(f"/chats/{future}").status_code == 404  # "not found" is not kept...
    with ns_app.app_context():
        db().chats.insert_one({**chats.new_chat(pair.alice.user["_id"], eve.user["_id"]), "_id": future})
    assert pair.alice.get(f"/chats/{future}").status_code == 200  # ...so the chat answers once it exists


def signed_in_person(app, name):
    client = app.test_client()
    client.user, client.token = signed_in(app, client, unique_email(name))
    return client


def start_chat_with(app, client):
    other = signed_in_person(app, "other")
    response = client.post("/chats", data={"user_id": str(other.user["_id"]), "csrf_token": client.token})
    return response.headers["Location"].rsplit("/", 1)[1]


def shapes(pair, carol_chat):
    """Every way a script (or another client) may shape a send: (name, form, content type, refused up front?)."""
    png = image_bytes()
    multipart = "multipart/form-data"

    def form(**fields):
        return {"csrf_token": pair.alice.token, "client_id": "fresh", **fields}

    reused = uuid.uuid4().hex
    return [
        ("image only, no text field", form(image=(io.BytesIO(png), "a.png")), multipart, False),
        ("image and alt, no text field", form(image=(io.BytesIO(png), "a.png"), alt="A dot"), multipart, False),
        ("spaces and an image", form(text="  \n ", image=(io.BytesIO(png), "a.png")), multipart, False),
        ("text and an empty file field", form(text="Hi", image=(io.BytesIO(b""), "")), multipart, False),
        ("text, urlencoded", form(text="Plain"), None, False),
        ("text twice", form(text=["First", "Second"]), None, False),
        ("control characters", form(text="a\x00b\x1b[2J\x07"), None, False),
        ("alt without an image", form(text="Hi", alt="Nothing"), None, False),
        ("no text field, no image", form(), None, True),
        ("no text field, urlencoded", form(alt="x"), None, True),
        ("no client_id", {"csrf_token": pair.alice.token, "text": "Hi"}, None, True),
        ("an upper-case client_id", form(client_id="A" * 32, text="Hi"), None, True),
        ("text too long", form(text="x" * 4001), None, True),
        ("alt too long", form(image=(io.BytesIO(png), "a.png"), alt="x" * 301), multipart, True),
        ("not an image", form(image=(io.BytesIO(b"GIF89a"), "a.gif")), multipart, True),
        ("a client_id first used in another chat", ("reuse", reused), None, True),
    ]


def test_every_shape_of_a_send_is_refused_up_front_or_stored_never_dead_lettered(pair, ns_app):
    """Issue 30, finding 2: an image-only send whose form had no text field
    was answered 200 (or 303), then dead-lettered ("text is not a string");
    a client_id reused in another chat was answered 200 and never stored."""
    from tests.support.queues import run_chat_worker

    carol = person(ns_app, "carol")
    response = pair.alice.post("/chats", data={"user_id": str(carol.user["_id"]), "csrf_token": pair.alice.token})
    carol_chat = response.headers["Location"]
    accepted, answers = {}, {}
    for name, fields, content_type, _ in shapes(pair, carol_chat):
        for headers in (HTMX, {}):
            if isinstance(fields, tuple):  # used in Alice's chat with Carol first, then here
                client = uuid.uuid4().hex
                first = pair.alice.post(
                    carol_chat + "/messages", data={"csrf_token": pair.alice.token, "client_id": client, "text": "Hi"}
                )
                assert first.status_code == 303
                data = {"csrf_token": pair.alice.token, "client_id": client, "text": "Here too"}
            else:
                data = {**fields, "client_id": uuid.uuid4().hex} if fields.get("client_id") == "fresh" else dict(fields)
                data = {key: (io.BytesIO(value[0].getvalue()), value[1]) if isinstance(value, tuple) else value
                        for key, value in data.items()}
            kwargs = {"content_type": content_type} if content_type else {}
            response = pair.alice.post(pair.url + "/messages", data=data, headers=headers, **kwargs)
            answers[name, bool(headers)] = response.status_code
            if response.status_code in (200, 303):
                accepted[data.get("client_id")] = name
    assert {key for key, status in answers.items() if status not in (200, 303)} == {
        (name, htmx) for name, _, _, refused in shapes(pair, carol_chat) if refused for htmx in (True, False)
    }, answers
    assert answers["a client_id first used in another chat", True] == 409
    assert run_chat_worker(ns_app) == {}  # nothing it would dead-letter
    with ns_app.app_context():
        stored = {doc["client_id"] for doc in db().messages.find({"chat_id": pair.id})}
    assert set(accepted) <= stored and len(accepted) == 16, {accepted[cid] for cid in set(accepted) - stored}


def test_each_page_loads_only_the_scripts_it_needs_each_named_by_its_content(pair, ns_app):
    def scripts(html):
        found = re.findall(r'<script src="/static/js/(\w+)\.js\?v=([0-9a-f]{12})"', html)
        return [name for name, _ in found]

    signed_in_pages = ["parley", "upsert", "times", "drafts", "navigation", "live"]
    assert scripts(ns_app.test_client().get("/signin").get_data(as_text=True)) == ["parley"]
    assert scripts(pair.alice.get("/profile").get_data(as_text=True)) == signed_in_pages + ["notify"]
    assert scripts(pair.alice.get("/").get_data(as_text=True)) == signed_in_pages
    chat_page = pair.alice.get(pair.alice.chat_url).get_data(as_text=True)
    assert scripts(chat_page) == signed_in_pages + ["log", "composer", "reply", "editing"]
