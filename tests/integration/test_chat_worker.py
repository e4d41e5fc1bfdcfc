"""Delivering messages (app/chats/sending/delivery.py), as the chat worker does it, in
this process with pushes captured; the worker as its own process where
killing it or its queue is the point. Real RabbitMQ, SecantusDB and Redis."""

import json
import re
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId

from app.chats import live, numbering, viewing
from app.chats.sending.delivery import deliver
from app.chats.sending.job import Job
from app.connections import db, key, redis_client
from app.data import chats, messages, users
from tests.support.images import stored_image
from tests.support.people import FROM_HERE, HTMX, client_id, say
from tests.support.queues import dead_letters, delivery, publish, queue_depth, run_chat_worker
from tests.support.services import free_port, wait_for

# The worker suite: each test runs on classic and on quorum queues.
pytestmark = pytest.mark.each_queue_type


def job(pair, text, sender="alice", **overrides):
    sender_id = getattr(pair, sender).user["_id"]
    return {**Job.new(uuid.uuid4().hex, pair.id, sender_id, text).fields(), **overrides}


def saved(app, pair):
    with app.app_context():
        return list(db().messages.find({"chat_id": pair.id}).sort("seq", 1))


def test_a_posted_message_is_saved_once_and_pushed_to_both_members(pair, ns_app, pushes):
    alice, bob = pair.alice, pair.bob
    say(alice, "Hi <script>alert(1)</script>")
    assert run_chat_worker(ns_app) == {}
    [message] = saved(ns_app, pair)
    assert message["text"] == "Hi <script>alert(1)</script>" and message["seq"] == 1 and message["seen_at"] is None
    to_bob = pushes.to(bob.user["_id"])
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in to_bob and "<script>" not in to_bob
    assert f'hx-target="#announcements-{pair.id}"' in to_bob
    assert re.search(r'chat-unread">1 unread<', to_bob)
    to_alice = pushes.to(alice.user["_id"])
    assert 'status-sent"' in to_alice and '<p class="message-status">Sent</p>' in to_alice
    assert pushes.kept(bob.user["_id"]) == to_bob  # replayable, every one
    pushes.clear()
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in bob.get(bob.chat_url, headers=FROM_HERE).get_data(as_text=True)
    assert "status-seen" in pushes.to(alice.user["_id"])  # the receipt, when Bob opened the chat


def row(html, client_id):
    """A message's whole row (its day separator, its group's name and time, its status) as `html` holds it."""
    found = re.search(r'<div id="m-' + client_id + r'" class="message-row.*?</article>\s*</div>', html, re.S)
    assert found, f"no message {client_id} in {html[:300]}..."
    return found.group(0)


def test_a_pushed_message_equals_what_the_page_renders_for_it(pair, ns_app, pushes, clock):
    """Each person's pushed rows equal their page's, in their own time zone,
    with the same day separators and groups; and so do the receipts' rows."""
    with ns_app.app_context():
        users.set_time_zone(pair.alice.user["_id"], "America/New_York")
        users.set_time_zone(pair.bob.user["_id"], "Asia/Tokyo")
    clock.set(clock.at.replace(hour=12, minute=0, second=0))
    image = stored_image(pair.id)
    steps = [  # (time passing, who sends the batch, what is in it, how each message starts)
        ({}, "alice", [("Good morning", None), ("", image)], ["day", "continued"]),
        ({"minutes": 2}, "bob", [("Morning!", None)], ["group"]),
        ({"minutes": 3}, "bob", [("How are you?", None)], ["continued"]),
        ({"minutes": 10}, "bob", [("Still there?", None)], ["group"]),
        ({"days": 1}, "alice", [("Sorry, yes", None)], ["day"]),
        ({"minutes": 1}, "bob", [("Ha", None)], ["group"]),
    ]
    people = {"alice": pair.alice, "bob": pair.bob}
    for passing, who, batch, starts in steps:
        clock.advance(**passing)
        sender, receiver = people[who], people["bob" if who == "alice" else "alice"]
        jobs = [job(pair, text, who, image=picture) for text, picture in batch]
        publish(ns_app, "chat:messages", *jobs)
        run_chat_worker(ns_app)
        to_sender, to_receiver = pushes.to(sender.user["_id"]), pushes.to(receiver.user["_id"])
        pushes.clear()
        for payload, start in zip(jobs, starts):
            pushed = row(to_receiver, payload["client_id"])
            assert ('class="day-separator"' in pushed) == (start == "day"), (start, pushed)
            assert ("continued" in pushed.split(">")[0]) == (start == "continued"), (start, pushed)
        sender_page = sender.get(pair.url).get_data(as_text=True)
        receiver_page = receiver.get(pair.url, headers=FROM_HERE).get_data(as_text=True)  # seen: receipts go out
        seen_page = sender.get(pair.url).get_data(as_text=True)
        for payload in jobs:
            cid = payload["client_id"]
            assert row(sender_page, cid) == row(to_sender, cid) and "status-sent" in row(to_sender, cid)
            assert row(receiver_page, cid) == row(to_receiver, cid)
            receipt = row(pushes.to(sender.user["_id"]), cid)
            assert row(seen_page, cid) == receipt and "status-seen" in receipt
        pushes.clear()
        if who == "alice" and len(jobs) == 2:
            morning = jobs
    bob_page = pair.bob.get(pair.url).get_data(as_text=True)
    started = clock.at - timedelta(days=1, minutes=16)
    tokyo = started.astimezone(ZoneInfo("Asia/Tokyo"))
    first = row(bob_page, morning[0]["client_id"])
    assert f">{tokyo:%A} {tokyo.day} {tokyo:%B}</span></h2>" in first or ">Yesterday</span></h2>" in first
    assert f">{tokyo:%H:%M}</time>" in first and "UTC" not in first
    pictured = row(bob_page, morning[1]["client_id"])
    assert 'alt="Image from alice-' in pictured and 'no description"' in pictured
    assert 'width="320" height="240"' in pictured and f'href="{stored_image(pair.id)["url"]}"' in pictured


def test_a_message_to_someone_viewing_the_chat_is_seen_at_once(pair, ns_app, pushes):
    with ns_app.app_context():
        viewing.start(pair.id, pair.bob.user["_id"], "bob-page")
    publish(ns_app, "chat:messages", job(pair, "You are looking"))
    run_chat_worker(ns_app)
    assert "status-seen" in pushes.to(pair.alice.user["_id"])
    assert saved(ns_app, pair)[0]["seen_at"] is not None
    assert "chat-unread" not in pushes.to(pair.bob.user["_id"])


def test_the_same_job_delivered_twice_makes_one_message(pair, ns_app, pushes):
    twice = job(pair, "Just once")
    publish(ns_app, "chat:messages", twice, twice, job(pair, "After it"))
    assert run_chat_worker(ns_app) == {}
    publish(ns_app, "chat:messages", twice)  # and again, in a later batch
    assert run_chat_worker(ns_app) == {}
    assert [m["text"] for m in saved(ns_app, pair)] == ["Just once", "After it"]
    assert [m["seq"] for m in saved(ns_app, pair)] == [1, 2]


def test_a_redelivered_job_saved_before_a_crash_still_updates_the_chat(pair, ns_app):
    """The worker died between saving the message and updating the chat: the
    redelivered job finds the message and brings the chat up to date, once."""
    payload = job(pair, "Saved, then the worker died")
    bob_id = pair.bob.user["_id"]
    with ns_app.test_request_context():
        doc = Job.from_json(json.dumps(payload)).message(bob_id)
        doc["seq"] = numbering.reserve({pair.id: 1})[pair.id]
        db().messages.insert_one(doc)
        from workers.chat import handle

        for _ in range(2):  # and again: the count is set, not added to
            assert handle([delivery(payload, redelivered=True)]) == {}
        state = chats.get(pair.id)
    assert len(saved(ns_app, pair)) == 1
    assert state["last_seq"] == 1 and state["latest_message"]["text"] == "Saved, then the worker died"
    assert chats.unread(state, bob_id) == 1


def test_a_page_read_while_the_worker_saves_still_shows_the_message(pair, ns_app, monkeypatch):
    """The worker saves the message right after the page has read the chat:
    the page finds it saved or still pending, never in neither."""
    alice = pair.alice
    page = alice.get(alice.chat_url).get_data(as_text=True)
    data = {"client_id": client_id(page), "text": "Saved meanwhile", "csrf_token": alice.token}
    assert alice.post(alice.chat_url + "/messages", data=data, headers=HTMX).status_code == 200
    read_chat = chats.get

    def read_then_worker_saves(chat_id):
        state = read_chat(chat_id)
        assert run_chat_worker(ns_app) == {}
        return state

    monkeypatch.setattr(chats, "get", read_then_worker_saves)
    assert f'id="m-{data["client_id"]}"' in alice.get(alice.chat_url).get_data(as_text=True)


def test_a_receiver_who_opens_the_chat_while_the_worker_saves_sees_the_message(pair, ns_app, pushes, monkeypatch):
    """Bob opens the chat after the worker looked for viewers and before it
    stored the message: his page's receipts find nothing yet, so the worker
    must look again once it has stored it."""
    bob_id = pair.bob.user["_id"]
    save_all = messages.save_all

    def bob_opens_the_chat_then_save(docs):
        live.view(pair.id, bob_id, "bob-page", True)
        return save_all(docs)

    monkeypatch.setattr(messages, "save_all", bob_opens_the_chat_then_save)
    publish(ns_app, "chat:messages", job(pair, "Seen at once"))
    assert run_chat_worker(ns_app) == {}
    with ns_app.app_context():
        assert chats.unread(chats.get(pair.id), bob_id) == 0
    (message,) = saved(ns_app, pair)
    assert message["seen_at"] is not None
    assert "status-seen" in pushes.to(pair.alice.user["_id"])


def test_when_both_are_looking_the_entries_come_from_the_batch(pair, ns_app, pushes, monkeypatch):
    with ns_app.app_context():
        for person in (pair.alice, pair.bob):
            viewing.start(pair.id, person.user["_id"], "page")
    publish(ns_app, "chat:messages", job(pair, "Zero"))
    run_chat_worker(ns_app)  # the chat's counter starts from its floor in the chat, read once
    monkeypatch.setattr(chats, "get_many", lambda ids: pytest.fail("read the chat back"))
    pushes.clear()
    publish(ns_app, "chat:messages", job(pair, "First"), job(pair, "Second"))
    assert run_chat_worker(ns_app) == {}
    to_alice = pushes.to(pair.alice.user["_id"])
    entries = re.findall(r'<li id="chat-entry-[^"]+" class="chat-entry"[^>]*data-version="(\d+)"', to_alice)
    assert entries and entries[-1] == "3"  # the newer entry wins, whatever arrives last
    assert "You: Second" in to_alice and "chat-unread" not in to_alice
    with ns_app.app_context():
        assert chats.get(pair.id)["latest_message"]["text"] == "Second"


# The worker as its own process.


@pytest.fixture
def worker(namespace, processes):
    processes.env.update(namespace)
    return lambda: processes.worker("chat")


def test_killing_the_worker_midstream_loses_and_doubles_nothing(pair, ns_app, worker):
    running = worker()
    jobs = [job(pair, f"message {n}", sender="alice" if n % 2 else "bob") for n in range(200)]
    publish(ns_app, "chat:messages", *jobs[:100])
    wait_for(lambda: len(saved(ns_app, pair)) >= 20, 20, interval=0.005, what="the worker to be midway")
    running.kill()
    assert len(saved(ns_app, pair)) < 200
    publish(ns_app, "chat:messages", *jobs[100:])
    worker()
    wait_for(
        lambda: len(saved(ns_app, pair)) >= 200 and queue_depth(ns_app, "chat:messages") == 0, 60, what="all 200"
    )
    messages = saved(ns_app, pair)
    assert sorted(m["client_id"] for m in messages) == sorted(j["client_id"] for j in jobs)
    seqs = [m["seq"] for m in messages]
    assert len(set(seqs)) == 200 and seqs == sorted(seqs)


def test_malformed_jobs_are_dead_lettered_and_the_queue_keeps_flowing(pair, ns_app, worker):
    stranger = str(ObjectId())
    not_theirs = "is not a member of chat"
    bad = [
        (b"{oops", "not JSON"),
        (job(pair, "x", client_id="short"), "client_id is not 32 hex digits"),
        (job(pair, "x" * 4001), "A message can be at most 4,000 characters"),
        (job(pair, ""), "Write a message or attach an image."),
        (job(pair, "x", chat_id=str(ObjectId())), not_theirs),
        (job(pair, "x", chat_id="nope"), "chat_id is not an id"),
        (job(pair, "x", sender_id=stranger), f"{stranger} {not_theirs}"),
        (job(pair, "x", sent_at="yesterday"), "sent_at is not an ISO date"),
    ]
    publish(ns_app, "chat:messages", *(payload for payload, _ in bad), job(pair, "Still flowing"))
    worker()
    wait_for(lambda: saved(ns_app, pair), 10, what="the good message")
    parked = []  # reading a dead letter takes it off the queue: gather them as they come
    wait_for(
        lambda: parked.extend(dead_letters(ns_app, "chat:messages")) or len(parked) >= len(bad),
        10,
        what="the dead letters",
    )
    assert len(parked) == len(bad)
    for (headers, _), (_, reason) in zip(parked, bad):
        assert reason in headers["x-parley-reason"]
    assert [m["text"] for m in saved(ns_app, pair)] == ["Still flowing"]


def test_message_numbers_never_go_back_whatever_redis_holds(pair, ns_app):
    def send_and_deliver(count):
        publish(ns_app, "chat:messages", *(job(pair, f"message {n}") for n in range(count)))
        assert run_chat_worker(ns_app) == {}

    counter = key_for_counter(ns_app, pair.id)
    send_and_deliver(5)
    with ns_app.app_context():
        redis_client().set(counter, 1)  # Redis restored from an older snapshot
    send_and_deliver(1)  # 2, 3, 4 and 5 are taken: no giving up after a few
    send_and_deliver(2)
    with ns_app.app_context():
        redis_client().delete(counter)  # or lost altogether
    send_and_deliver(2)
    with ns_app.app_context():  # a worker died after saving #11, before the chat knew of it
        db().messages.insert_one({**job_message(pair, "saved, then the worker died"), "seq": 11})
        redis_client().set(counter, 3)
    send_and_deliver(1)
    assert [m["seq"] for m in saved(ns_app, pair)] == list(range(1, 13))


def key_for_counter(app, chat_id):
    with app.app_context():
        return key("seq", chat_id)


def job_message(pair, text):
    return Job.from_json(json.dumps(job(pair, text))).message(pair.bob.user["_id"])


@pytest.mark.parametrize("fault", ["out of memory", "read-only replica"])
def test_a_redis_answering_errors_is_waited_for_and_no_job_is_dead_lettered(
    pair, ns_app, namespace, processes, private_redis, fault
):
    broken = private_redis.client()
    if fault == "out of memory":
        broken.config_set("maxmemory", 1)  # every write refused: OOM
    else:
        broken.replicaof("127.0.0.1", free_port())  # a replica of nothing: READONLY
    processes.env.update(namespace, REDIS_URL=private_redis.url)
    jobs = [job(pair, f"message {n}") for n in range(20)]
    publish(ns_app, "chat:messages", *jobs)
    running = processes.worker("chat")
    wait_for(lambda: running.output().count("the jobs wait") >= 2, 15, what="the worker to wait, twice")
    assert saved(ns_app, pair) == []
    if fault == "out of memory":
        broken.config_set("maxmemory", 0)
    else:
        broken.replicaof("NO", "ONE")
    wait_for(lambda: len(saved(ns_app, pair)) == 20, 40, what="all 20 once Redis is well")
    assert dead_letters(ns_app, "chat:messages") == []
    assert sorted(m["client_id"] for m in saved(ns_app, pair)) == sorted(j["client_id"] for j in jobs)


@pytest.mark.process
def test_what_the_worker_has_delivered_survives_the_store_being_killed(ns_app, tmp_path):
    """The worker acks after delivering: what the store acknowledged must be
    on its disk, not only in its memory, when the store is killed next."""
    from app import connections, create_app
    from app.data import indexes, users
    from sandbox import SecantusDB

    store = SecantusDB(storage_path=str(tmp_path / "store"))
    app = create_app({"MONGODB_URI": store.url("parley"), "KEY_PREFIX": ns_app.config["KEY_PREFIX"]})
    try:
        with app.test_request_context():
            indexes.create_all()
            alice, bob = (users.find_or_create(f"{name}-{uuid.uuid4().hex[:6]}@example.com") for name in "ab")
            chat = chats.open_between(alice["_id"], bob["_id"])
            deliver([Job.new(uuid.uuid4().hex, chat["_id"], alice["_id"], "Kept")])
        store.kill()
        store.start()
        with app.app_context():
            assert [m["text"] for m in db().messages.find({"chat_id": chat["_id"]})] == ["Kept"]
    finally:
        connections.close(app)  # while the store is up: else its client waits seconds to say goodbye
        store.kill()  # its files are the test's alone: no need for a graceful stop (2 s)
