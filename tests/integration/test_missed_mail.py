"""Missed-message emails (app/notifications/), from a delivered message to
the SMTP server: the chat worker, the notify worker and the mail worker
each run in this process with the app's clock set, on real Redis,
RabbitMQ, SecantusDB and SMTP."""

import re

import pytest
from pymongo import monitoring
from redis.client import Pipeline
from redis.cluster import ClusterPipeline

from app import clock as app_clock
from app import create_app, letters
from app.chats.sending import delivery
from app.connections import redis_client
from app.data import users
from app.notifications import mail, schedule, scheduler
from tests.support.people import FROM_HERE, say, two_people_with_a_chat
from tests.support.queues import (
    publish,
    queued_jobs,
    run_chat_worker,
    run_mail_worker,
    run_notify_worker,
    take_jobs,
)

DELAY = 600  # MISSED_MESSAGE_DELAY's default, as the tests run


def waiting(app):
    """{check: seconds from now until it is due} of what waits in the schedule."""
    with app.app_context():
        now = app_clock.time()
        return {
            check: round(at - now) for check, at in redis_client().zrange(schedule.due_key(), 0, -1, withscores=True)
        }


def alice_says(pair, app, *texts):
    for text in texts:
        say(pair.alice, text)
    assert run_chat_worker(app) == {}


def set_notify(app, person, **settings):
    with app.app_context():
        users.set_notify(person.user["_id"], **settings)


def test_an_unseen_message_schedules_one_check_at_the_end_of_the_delay(pair, ns_app, clock):
    bob = f"mail:{pair.bob.user['_id']}"
    alice_says(pair, ns_app, "One")
    assert waiting(ns_app) == {bob: DELAY}
    clock.advance(seconds=30)
    alice_says(pair, ns_app, "Two", "Three")
    assert waiting(ns_app) == {bob: DELAY - 30}  # the first unseen message set the time


def test_nothing_is_scheduled_for_someone_looking_at_the_chat(pair, ns_app):
    pair.bob.post(pair.url + "/viewing", data={"csrf_token": pair.bob.token, "page": "p1", "visible": "1"})
    alice_says(pair, ns_app, "You are here")
    assert waiting(ns_app) == {}


def test_at_the_end_of_the_delay_one_email_tells_who_wrote_and_how_many(pair, ns_app, clock, inbox):
    alice_says(pair, ns_app, "Are you there?", "I have the <numbers>.", "Call me")
    clock.advance(seconds=DELAY - 1)
    assert run_notify_worker(ns_app) == [] and take_jobs(ns_app, "send-mail") == []
    clock.advance(seconds=1)
    assert run_notify_worker(ns_app) == [f"mail:{pair.bob.user['_id']}"]
    assert run_mail_worker(ns_app) == {}
    email = inbox.wait(pair.bob.user["email"])
    name = pair.alice.user["name"]
    assert email["Subject"] == f"3 new messages from {name}"
    text = email.get_body(("plain",)).get_content()
    for said in ("Are you there?", "I have the <numbers>.", "Call me"):
        assert said in text
    link = f"http://127.0.0.1:5000/chats/{pair.id}/new"
    assert f"Open your chat with {name}: {link}" in text
    html = email.get_body(("html",)).get_content()
    assert "I have the &lt;numbers&gt;." in html and "<numbers>" not in html
    assert f'<a class="open" href="{link}"' in html and re.search(r"<h1>3 new messages from", html)
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http://127\.0\.0\.1:5000/unsubscribe/[\w.-]+>", email["List-Unsubscribe"])
    clock.advance(seconds=DELAY)
    assert run_notify_worker(ns_app) == [] and waiting(ns_app) == {}  # nothing more to say


def test_reading_before_the_delay_sends_nothing(pair, ns_app, clock):
    alice_says(pair, ns_app, "Hello")
    clock.advance(seconds=60)
    pair.bob.get(pair.url, headers=FROM_HERE)  # Bob reads it
    clock.advance(seconds=DELAY)
    assert run_notify_worker(ns_app) == [f"mail:{pair.bob.user['_id']}"]
    assert take_jobs(ns_app, "send-mail") == []


def test_never_sends_nothing(pair, ns_app, clock):
    set_notify(ns_app, pair.bob, email="never")
    alice_says(pair, ns_app, "Hello")
    assert waiting(ns_app) == {}
    clock.advance(days=2)
    run_notify_worker(ns_app)
    assert take_jobs(ns_app, "send-mail") == []


@pytest.mark.parametrize("choice, seconds", [("5m", 300), ("1h", 3600), ("1d", 86400)])
def test_each_timing_waits_its_own_delay(pair, ns_app, clock, choice, seconds):
    set_notify(ns_app, pair.bob, email=choice)
    alice_says(pair, ns_app, "Hello")
    assert waiting(ns_app) == {f"mail:{pair.bob.user['_id']}": seconds}


def test_a_longer_delay_chosen_after_the_message_is_waited_for(pair, ns_app, clock):
    alice_says(pair, ns_app, "Hello")
    set_notify(ns_app, pair.bob, email="1h")
    clock.advance(seconds=DELAY)
    run_notify_worker(ns_app)
    assert take_jobs(ns_app, "send-mail") == []
    assert waiting(ns_app) == {f"mail:{pair.bob.user['_id']}": 3600 - DELAY}


def test_a_second_batch_waits_for_another_delay_and_tells_only_what_is_new(pair, ns_app, clock):
    alice_says(pair, ns_app, "First")
    clock.advance(seconds=DELAY)
    run_notify_worker(ns_app)
    [first] = queued_jobs(ns_app, "send-mail")
    clock.advance(seconds=10)
    alice_says(pair, ns_app, "Second", "Third")
    assert waiting(ns_app) == {f"mail:{pair.bob.user['_id']}": DELAY}
    clock.advance(seconds=DELAY - 1)
    run_notify_worker(ns_app)
    assert take_jobs(ns_app, "send-mail") == []
    clock.advance(seconds=1)
    run_notify_worker(ns_app)
    [second] = queued_jobs(ns_app, "send-mail")
    assert [m["text"] for m in first["values"]["chats"][0]["messages"]] == ["First"]
    assert [m["text"] for m in second["values"]["chats"][0]["messages"]] == ["Second", "Third"]
    assert first["key"] != second["key"]


@pytest.mark.parametrize("who", ["person", "operator"])
def test_the_text_is_left_out_when_the_person_or_the_operator_says_so(pair, ns_app, clock, inbox, who):
    if who == "person":
        set_notify(ns_app, pair.bob, text=False)
    else:
        ns_app.config["MISSED_MESSAGE_TEXT"] = False
    alice_says(pair, ns_app, "My secret plan")
    clock.advance(seconds=DELAY)
    run_notify_worker(ns_app)
    [job] = queued_jobs(ns_app, "send-mail")
    assert "My secret plan" not in str(job)  # not even on the queue
    publish(ns_app, "send-mail", job)
    run_mail_worker(ns_app)
    email = inbox.wait(pair.bob.user["email"])
    assert email["Subject"] == f"1 new message from {pair.alice.user['name']}"
    assert "My secret plan" not in email.get_body(("plain",)).get_content()
    assert "My secret plan" not in email.get_body(("html",)).get_content()


def test_nothing_is_mailed_about_someone_the_person_blocked(pair, ns_app, clock):
    alice_says(pair, ns_app, "Hello")
    page = pair.bob.get(pair.url + "/block").get_data(as_text=True)
    assert "Block" in page
    pair.bob.post(pair.url + "/block", data={"csrf_token": pair.bob.token})
    clock.advance(seconds=DELAY)
    run_notify_worker(ns_app)
    assert take_jobs(ns_app, "send-mail") == []


@pytest.mark.parametrize("stop_at", ["mail:read", "mail:pending", "mail:queued", "mail:marked", "mail:done"])
def test_a_check_stopped_at_any_step_and_run_again_mails_once(pair, ns_app, clock, inbox, monkeypatch, stop_at):
    """The notify worker killed mid-check: its claim lapses, the check runs
    again, and the mail worker sends the email once (a key queued twice is sent once)."""

    class Killed(BaseException):
        pass

    def step(name):
        if name == stop_at:
            raise Killed(name)

    alice_says(pair, ns_app, "Hello", "Are you there?")
    clock.advance(seconds=DELAY)
    monkeypatch.setattr(mail, "step", step)
    with pytest.raises(Killed):
        run_notify_worker(ns_app)
    monkeypatch.undo()
    clock.advance(seconds=schedule.LEASE)  # the claim lapses
    run_notify_worker(ns_app)
    run_mail_worker(ns_app)
    address = pair.bob.user["email"]
    assert inbox.wait(address)["Subject"] == f"2 new messages from {pair.alice.user['name']}"
    clock.advance(seconds=DELAY)
    run_notify_worker(ns_app)
    run_mail_worker(ns_app)
    assert len(inbox.to(address)) == 1
    assert waiting(ns_app) == {}


def test_checks_lost_with_redis_are_found_again_in_mongodb(pair, ns_app, clock, inbox):
    alice_says(pair, ns_app, "Hello")
    with ns_app.app_context():
        redis_client().delete(schedule.due_key(), schedule.claimed_key(), schedule.epoch_key())  # Redis lost its data
    clock.advance(seconds=DELAY)
    with letters.for_public_url(ns_app):
        worker = scheduler.Scheduler(ns_app)
        worker.epoch = 41  # what it saw before: the count went back
        # With others' of this run's database: a round claims at most 50, so look until Bob's comes.
        checks = worker.round()
        while f"mail:{pair.bob.user['_id']}" not in checks and (more := worker.round()):
            checks += more
        assert f"mail:{pair.bob.user['_id']}" in checks
    run_mail_worker(ns_app)
    assert inbox.wait(pair.bob.user["email"])["Subject"] == f"1 new message from {pair.alice.user['name']}"


class Commands(monitoring.CommandListener):
    """MongoDB commands sent while counting (a global listener: clients made after it see it)."""

    def __init__(self):
        self.counting, self.names = False, []

    def started(self, event):
        if self.counting and event.command_name not in ("hello", "ismaster", "endSessions"):
            self.names.append(event.command_name)

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def test_scheduling_costs_no_mongodb_command_and_one_redis_command_in_a_round_trip(namespace, monkeypatch):
    """The chat worker's delivery to someone away, with and without scheduling their check."""
    mongo = Commands()
    monitoring.register(mongo)
    app = create_app({name: namespace[name] for name in ("KEY_PREFIX", "QUEUE_PREFIX", "QUEUE_TYPE")})
    pair = two_people_with_a_chat(app)
    redis_calls = []

    def counting(kind, queued):
        execute = kind.execute

        def counted(pipe, *args, **kwargs):
            redis_calls.append([str(name).upper() for name in queued(pipe)])
            return execute(pipe, *args, **kwargs)

        monkeypatch.setattr(kind, "execute", counted)

    counting(Pipeline, lambda pipe: [command[0][0] for command in pipe.command_stack])
    counting(ClusterPipeline, lambda pipe: [command.args[0] for command in pipe._execution_strategy.command_queue])

    def deliver(text):
        say(pair.alice, text)
        mongo.names, redis_calls[:] = [], []
        mongo.counting = True
        run_chat_worker(app)
        mongo.counting = False
        return list(mongo.names), [list(calls) for calls in redis_calls]

    deliver("warm up")  # caches: the chat's members, the people
    with_check = deliver("Scheduled")
    monkeypatch.setattr(delivery, "ask_after_delivery", lambda pipe, receivers: None)
    without = deliver("Not scheduled")
    assert with_check[0] == without[0]  # the same MongoDB commands
    assert len(with_check[1]) == len(without[1])  # the same Redis round trips
    added = [call for calls in with_check[1] for call in calls if call not in [c for cs in without[1] for c in cs]]
    assert added == ["ZADD"]
