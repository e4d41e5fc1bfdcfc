"""A message's job: the one shape the send view builds, the queue carries,
the chat worker parses and the store keeps; with no service behind it."""

import json
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from flask import Flask

from app import clock
from app.broker.consumer import Reject
from app.chats.forms import MessageForm
from app.chats.sending.job import MAX_TEXT, Job, text_problem


@pytest.fixture
def job():
    return Job.new("a" * 32, ObjectId(), ObjectId(), "Hello", None)


def test_a_job_goes_through_the_queue_unchanged(job):
    assert Job.from_json(json.dumps(job.fields())) == job
    assert set(job.fields()) == {"client_id", "chat_id", "sender_id", "text", "image", "sent_at"}


def test_its_time_is_the_clocks_to_the_millisecond():
    clock.set_to(datetime(2026, 11, 29, 18, 14, 3, 123456, tzinfo=UTC))
    try:
        job = Job.new("b" * 32, ObjectId(), ObjectId(), "Hi")
    finally:
        clock.set_to()
    assert job.sent_at == datetime(2026, 11, 29, 18, 14, 3, 123000, tzinfo=UTC)


def test_the_stored_message_is_the_job_for_its_receiver(job):
    receiver = ObjectId()
    message = job.message(receiver)
    assert message == {
        "chat_id": job.chat_id,
        "sender_id": job.sender_id,
        "receiver_id": receiver,
        "client_id": job.client_id,
        "text": "Hello",
        "image": None,
        "seen_at": None,
        "created_at": job.sent_at,
    }


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"client_id": "short"}, "client_id is not 32 hex digits"),
        ({"text": None}, "text is not a string"),
        ({"text": "x" * (MAX_TEXT + 1)}, f"A message can be at most {MAX_TEXT:,} characters"),
        ({"text": ""}, "Write a message or attach an image."),
        ({"image": {"url": 5}}, "image is not {url, width, height, alt}"),
        ({"chat_id": "nope"}, "chat_id is not an id"),
        ({"sender_id": None}, "sender_id is not an id"),
        ({"sent_at": "yesterday"}, "sent_at is not an ISO date"),
    ],
)
def test_a_malformed_job_is_rejected_with_its_reason(job, change, reason):
    with pytest.raises(Reject) as rejected:
        Job.from_json(json.dumps({**job.fields(), **change}))
    assert str(rejected.value).startswith(reason)


def test_an_image_alone_is_a_message(job):
    image = {"url": "/x.png", "width": 4, "height": 3, "alt": ""}
    assert Job.from_json(json.dumps({**job.fields(), "text": "", "image": image})).image == image


def test_the_form_says_what_the_worker_would():
    app = Flask(__name__)
    too_long = "x" * (MAX_TEXT + 1)
    for text in (too_long, ""):
        with app.test_request_context(method="POST", data={"client_id": "c" * 32, "text": text}):
            form = MessageForm()
            assert not form.validate()
            assert form.first_error() == text_problem(text, False)
