"""The chat worker as its own process: real RabbitMQ, SecantusDB and Redis."""

import json
import re
import statistics
import time
import uuid
from datetime import UTC, datetime

import pika
import pytest
from bson import ObjectId

from app.connections import db
from app.realtime import push, viewing
from tests.helpers import signed_in, unique_email
from tests.integration.test_chats import HTMX, client_id
from tests.integration.test_mail_worker import dead_letters
from tests.support import Pushes, queue_depth, wait_for


@pytest.fixture
def chat(ns_app, namespace, processes):
    """Alice and Bob with a chat, a chat worker on this test's queue, and their push channels."""
    processes.env.update(namespace)
    alice, bob = ns_app.test_client(), ns_app.test_client()
    alice.user, alice.token = signed_in(ns_app, alice, unique_email("alice"))
    bob.user, bob.token = signed_in(ns_app, bob, unique_email("bob"))
    response = alice.post("/chats", data={"user_id": str(bob.user["_id"]), "csrf_token": alice.token})
    alice.chat_url = bob.chat_url = response.headers["Location"]
    chat_id = ObjectId(alice.chat_url.rsplit("/", 1)[1])
    with ns_app.app_context():
        channels = {"alice": push.channel(alice.user["_id"]), "bob": push.channel(bob.user["_id"])}
    pushes = Pushes(namespace["REDIS_URL"], channels.values())
    yield {
        "alice": alice,
        "bob": bob,
        "id": chat_id,
        "channels": channels,
        "pushes": pushes,
        "worker": lambda: processes.worker("chat"),
        "app": ns_app,
        "env": namespace,
    }
    pushes.stop()


def job(chat, text, sender="alice", **overrides):
    sender_id = chat[sender].user["_id"]
    fields = {
        "client_id": uuid.uuid4().hex,
        "chat_id": str(chat["id"]),
        "sender_id": str(sender_id),
        "text": text,
        "image": None,
        "sent_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    return {**fields, **overrides}


def publish(chat, *payloads):
    env = chat["env"]
    connection = pika.BlockingConnection(pika.URLParameters(env["RABBITMQ_URL"]))
    channel = connection.channel()
    name = env["QUEUE_PREFIX"] + "chat:messages"
    channel.queue_declare(name, durable=True)
    channel.confirm_delivery()
    for payload in payloads:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        channel.basic_publish("", name, body, pika.BasicProperties(delivery_mode=2))
    connection.close()


def saved(chat):
    with chat["app"].app_context():
        return list(db().messages.find({"chat_id": chat["id"]}).sort("seq", 1))


def test_a_posted_message_is_saved_once_and_pushed_to_both_members(chat):
    chat["worker"]()
    alice, pushes = chat["alice"], chat["pushes"]
    page = alice.get(alice.chat_url).get_data(as_text=True)
    response = alice.post(
        alice.chat_url + "/messages",
        headers=HTMX,
        data={"client_id": client_id(page), "text": "Hi <script>alert(1)</script>", "csrf_token": alice.token},
    )
    assert response.status_code == 200
    wait_for(lambda: pushes.on(chat["channels"]["bob"]), 10, what="Bob's push")
    [message] = saved(chat)
    assert message["text"] == "Hi <script>alert(1)</script>" and message["seq"] == 1 and message["seen_at"] is None
    to_bob = "".join(p["content"] for p in pushes.on(chat["channels"]["bob"]))
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in to_bob and "<script>" not in to_bob
    assert f'hx-target="#announcements-{chat["id"]}"' in to_bob
    assert re.search(r'chat-unread">1 unread<', to_bob)
    to_alice = "".join(p["content"] for p in pushes.on(chat["channels"]["alice"]))
    assert '<p class="message-status message-sent">Sent</p>' in to_alice
    assert all(re.fullmatch(r"\d+-\d+", p["id"]) for _, p in pushes.received)  # replayable: stream ids
    bob_page = chat["bob"].get(chat["bob"].chat_url).get_data(as_text=True)
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in bob_page
    wait_for(
        lambda: any("message-seen" in p["content"] for p in pushes.on(chat["channels"]["alice"])),
        5,
        what="the receipt pushed to Alice when Bob opened the chat",
    )


def test_a_pushed_message_equals_what_the_page_renders_for_it(chat):
    chat["worker"]()
    payload = job(chat, "Same everywhere", image={"url": "/x.png", "width": 4, "height": 3, "alt": ""})
    publish(chat, payload)
    pushes = chat["pushes"]
    wait_for(lambda: pushes.on(chat["channels"]["bob"]), 10, what="the push to Bob")
    article = re.compile(r'<article id="m-' + payload["client_id"] + r'".*?</article>', re.S)
    pushed = article.search(pushes.on(chat["channels"]["bob"])[0]["content"]).group(0)
    assert 'alt="Image from alice-' in pushed and 'no description"' in pushed
    page = chat["bob"].get(chat["bob"].chat_url).get_data(as_text=True)
    assert article.search(page).group(0) == pushed


def test_a_message_to_someone_viewing_the_chat_is_seen_at_once(chat):
    with chat["app"].app_context():
        viewing.start(chat["id"], chat["bob"].user["_id"], "bob-page")
    chat["worker"]()
    publish(chat, job(chat, "You are looking"))
    pushes = chat["pushes"]
    wait_for(lambda: pushes.on(chat["channels"]["alice"]), 10, what="the push to Alice")
    assert "message-seen" in pushes.on(chat["channels"]["alice"])[0]["content"]
    assert saved(chat)[0]["seen_at"] is not None
    assert "chat-unread" not in "".join(p["content"] for p in pushes.on(chat["channels"]["bob"]))


def test_the_same_job_delivered_twice_makes_one_message(chat):
    chat["worker"]()
    twice = job(chat, "Just once")
    publish(chat, twice, twice)
    publish(chat, job(chat, "After it"))
    wait_for(
        lambda: (
            len(saved(chat)) == 2
            and queue_depth(chat["env"]["RABBITMQ_URL"], chat["env"]["QUEUE_PREFIX"] + "chat:messages") == 0
        ),
        10,
        what="both messages",
    )
    time.sleep(0.3)
    assert [m["text"] for m in saved(chat)] == ["Just once", "After it"]


def test_killing_the_worker_midstream_loses_and_doubles_nothing(chat):
    worker = chat["worker"]()
    jobs = [job(chat, f"message {n}", sender="alice" if n % 2 else "bob") for n in range(200)]
    publish(chat, *jobs[:100])
    wait_for(lambda: len(saved(chat)) >= 20, 20, interval=0.005, what="the worker to be midway")
    worker.kill()
    assert len(saved(chat)) < 200
    publish(chat, *jobs[100:])
    chat["worker"]()
    wait_for(lambda: len(saved(chat)) >= 200, 60, what="all 200 messages")
    time.sleep(0.5)
    messages = saved(chat)
    assert sorted(m["client_id"] for m in messages) == sorted(j["client_id"] for j in jobs)
    seqs = [m["seq"] for m in messages]
    assert len(set(seqs)) == 200 and seqs == sorted(seqs)


def test_malformed_jobs_are_dead_lettered_and_the_queue_keeps_flowing(chat, ns_app):
    stranger = str(ObjectId())
    bad = [
        (b"{oops", "not JSON"),
        (job(chat, "x", client_id="short"), "client_id is not 32 hex digits"),
        (job(chat, "x" * 4001), "text is not a string of at most 4000 characters"),
        (job(chat, ""), "the message is empty"),
        (job(chat, "x", chat_id=str(ObjectId())), "no chat"),
        (job(chat, "x", chat_id="nope"), "chat_id is not an id"),
        (job(chat, "x", sender_id=stranger), f"{stranger} is not a member"),
        (job(chat, "x", sent_at="yesterday"), "sent_at is not an ISO date"),
    ]
    publish(chat, *(payload for payload, _ in bad))
    publish(chat, job(chat, "Still flowing"))
    chat["worker"]()
    wait_for(lambda: saved(chat), 10, what="the good message")
    parked = []  # reading a dead letter takes it off the queue: gather them as they come
    wait_for(
        lambda: (
            parked.extend(dead_letters(chat["env"]["RABBITMQ_URL"], chat["env"]["QUEUE_PREFIX"] + "chat:messages"))
            or len(parked) >= len(bad)
        ),
        10,
        what="the dead letters",
    )
    assert len(parked) == len(bad)
    for (headers, _), (_, reason) in zip(parked, bad):
        assert headers["x-parley-reason"].startswith(reason)
    assert [m["text"] for m in saved(chat)] == ["Still flowing"]


def test_time_from_send_to_saved(chat):
    """Not a timed test: it prints what it saw, for the note (the bench measures under load)."""
    chat["worker"]()
    alice, pushes = chat["alice"], chat["pushes"]
    page = alice.get(alice.chat_url).get_data(as_text=True)
    token_field = client_id(page)
    delays = []
    for n in range(200):
        data = {"client_id": uuid.uuid4().hex if n else token_field, "text": f"timed {n}", "csrf_token": alice.token}
        before = len(pushes.on(chat["channels"]["alice"]))
        started = time.monotonic()
        assert alice.post(alice.chat_url + "/messages", data=data, headers=HTMX).status_code == 200
        wait_for(
            lambda before=before: len(pushes.on(chat["channels"]["alice"])) > before,
            10,
            interval=0.0005,
            what="the saved message",
        )
        delays.append(time.monotonic() - started)
    assert len(saved(chat)) == 200
    p50, p95 = statistics.median(delays) * 1000, statistics.quantiles(delays, n=20)[18] * 1000
    print(f"\nsend -> saved by the worker -> pushed: p50 {p50:.1f} ms, p95 {p95:.1f} ms over 200 messages")


def test_a_redelivered_job_saved_before_a_crash_still_updates_the_chat(chat):
    """The worker died between saving the message and updating the chat: the
    redelivered job finds the message and brings the chat up to date, once."""
    from types import SimpleNamespace

    from app.chats import numbering
    from app.data import chats, messages
    from workers import chat as chat_worker
    from workers.consumer import Delivery

    payload = job(chat, "Saved, then the worker died")
    app, bob_id = chat["app"], chat["bob"].user["_id"]
    with app.test_request_context():
        doc = messages.from_job(payload, bob_id)
        doc["seq"] = numbering.reserve({chat["id"]: 1})[chat["id"]]
        messages.save_all([doc])
        redelivered = Delivery(SimpleNamespace(delivery_tag=1, redelivered=True), None, json.dumps(payload).encode())
        for _ in range(2):  # and again: the count is set, not added to
            assert chat_worker.handle([redelivered]) == {}
        state = chats.get(chat["id"])
    assert len(saved(chat)) == 1
    assert state["last_seq"] == 1 and state["latest_message"]["text"] == "Saved, then the worker died"
    assert chats.unread(state, bob_id) == 1


def test_a_page_read_while_the_worker_saves_still_shows_the_message(chat, monkeypatch):
    """The worker saves the message right after the page has read the chat:
    the page finds it saved or still pending, never in neither."""
    from types import SimpleNamespace

    from app.chats import pending
    from app.data import chats
    from workers import chat as chat_worker
    from workers.consumer import Delivery

    alice = chat["alice"]
    page = alice.get(alice.chat_url).get_data(as_text=True)
    data = {"client_id": client_id(page), "text": "Saved meanwhile", "csrf_token": alice.token}
    assert alice.post(alice.chat_url + "/messages", data=data, headers=HTMX).status_code == 200
    with chat["app"].app_context():
        (payload,) = pending.jobs(chat["id"], alice.user["_id"])
    read_chat = chats.get

    def read_then_worker_saves(chat_id):
        state = read_chat(chat_id)
        delivery = Delivery(SimpleNamespace(delivery_tag=1, redelivered=False), None, json.dumps(payload).encode())
        assert chat_worker.handle([delivery]) == {}
        return state

    monkeypatch.setattr(chats, "get", read_then_worker_saves)
    assert f'id="m-{payload["client_id"]}"' in alice.get(alice.chat_url).get_data(as_text=True)


def test_a_receiver_who_opens_the_chat_while_the_worker_saves_sees_the_message(chat, monkeypatch):
    """Bob opens the chat after the worker looked for viewers and before it
    stored the message: his page's receipts find nothing yet, so the worker
    must look again once it has stored it."""
    from types import SimpleNamespace

    from app.data import chats, messages
    from app.realtime import activity
    from workers import chat as chat_worker
    from workers.consumer import Delivery

    bob_id = chat["bob"].user["_id"]
    save_all = messages.save_all

    def bob_opens_the_chat_then_save(docs):
        with chat["app"].test_request_context():
            activity.view(chat["id"], bob_id, "bob-page", True)
        return save_all(docs)

    monkeypatch.setattr(messages, "save_all", bob_opens_the_chat_then_save)
    delivery = Delivery(
        SimpleNamespace(delivery_tag=1, redelivered=False), None, json.dumps(job(chat, "Seen at once")).encode()
    )
    with chat["app"].test_request_context():
        assert chat_worker.handle([delivery]) == {}
        assert chats.unread(chats.get(chat["id"]), bob_id) == 0
    (message,) = saved(chat)
    assert message["seen_at"] is not None
    wait_for(
        lambda: "message-seen" in "".join(p["content"] for p in chat["pushes"].on(chat["channels"]["alice"])),
        10,
        what="the receipt pushed to Alice",
    )


def test_when_both_are_looking_the_entries_come_from_the_batch(chat):
    with chat["app"].app_context():
        for person in ("alice", "bob"):
            viewing.start(chat["id"], chat[person].user["_id"], f"{person}-page")
    chat["worker"]()
    publish(chat, job(chat, "First"), job(chat, "Second"))
    pushes = chat["pushes"]
    wait_for(
        lambda: "Second" in "".join(p["content"] for p in pushes.on(chat["channels"]["bob"])),
        10,
        what="both messages pushed to Bob",
    )
    to_alice = "".join(p["content"] for p in pushes.on(chat["channels"]["alice"]))
    entries = re.findall(r'<li id="chat-entry-[^"]+" class="chat-entry"[^>]*data-version="(\d+)"', to_alice)
    assert entries and entries[-1] == "2"  # the newer entry wins, whatever arrives last
    assert "You: Second" in to_alice and "chat-unread" not in to_alice
    with chat["app"].app_context():
        from app.data import chats

        assert chats.get(chat["id"])["latest_message"]["text"] == "Second"
