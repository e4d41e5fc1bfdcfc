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
from tests.support.images import stored_image

QUOTE = {"client_id": "c" * 32, "seq": 7, "sender_id": str(ObjectId()), "name": "Ada", "text": "Where?", "image": False}


@pytest.fixture
def job():
    with Flask(__name__).app_context() as context:  # where images are kept: CLOUDINARY_URL
        context.app.config["CLOUDINARY_URL"] = None
        yield Job.new("a" * 32, ObjectId(), ObjectId(), "Hello", None)


def test_a_job_goes_through_the_queue_unchanged(job):
    assert Job.from_json(json.dumps(job.fields())) == job
    assert set(job.fields()) == {"client_id", "chat_id", "sender_id", "text", "image", "sent_at"}


def test_a_reply_carries_its_quote_through_the_queue_into_the_message(job):
    reply = Job.from_fields({**job.fields(), "reply_to": QUOTE})
    assert Job.from_json(json.dumps(reply.fields())) == reply
    assert reply.message(ObjectId())["reply_to"] == {**QUOTE, "sender_id": ObjectId(QUOTE["sender_id"])}
    assert "reply_to" not in job.message(ObjectId())  # a message that answers none has no field


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
        ({"text": "\ud800"}, "text is not a string"),
        ({"chat_id": "nope"}, "chat_id is not an id"),
        ({"sender_id": None}, "sender_id is not an id"),
        ({"sent_at": "yesterday"}, "sent_at is not an ISO date"),
        ({"reply_to": "c" * 32}, "reply_to is not {client_id, seq, sender_id, name, text, image}"),
        ({"reply_to": {**QUOTE, "text": "x" * 201}}, "reply_to is not"),
        ({"reply_to": {**QUOTE, "image": "yes"}}, "reply_to is not"),
        ({"reply_to": {**QUOTE, "seq": "7"}}, "reply_to is not"),
        ({"reply_to": {**QUOTE, "sender_id": "nobody"}}, "sender_id is not an id"),
    ],
)
def test_a_malformed_job_is_rejected_with_its_reason(job, change, reason):
    with pytest.raises(Reject) as rejected:
        Job.from_json(json.dumps({**job.fields(), **change}))
    assert str(rejected.value).startswith(reason)


def test_an_image_alone_is_a_message(job):
    image = stored_image(job.chat_id, 4, 3, thumb=(4, 3))
    assert Job.from_json(json.dumps({**job.fields(), "text": "", "image": image})).image == image
    cloudinary = {
        "url": f"https://res.cloudinary.com/demo/image/upload/v1/parley/{job.chat_id}/{'B' * 24}",
        "width": 4,
        "height": 3,
        "alt": "",
        "ref": f"cloudinary:parley/{job.chat_id}/{'B' * 24}",
    }
    assert Job.from_json(json.dumps({**job.fields(), "image": cloudinary})).image == cloudinary


def forged(job, **changes):
    image = {**stored_image(job.chat_id, thumb=(64, 48)), **changes}
    return {key: value for key, value in image.items() if value is not None}


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"url": "javascript:alert(document.cookie)"}, "image is not"),
        ({"url": "http://res.cloudinary.com/demo/image/upload/parley/CHAT/x"}, "image is not"),  # not https
        ({"url": "https://tracker.example/parley/CHAT/x.png"}, "image is not"),
        ({"url": f"/chats/{'0' * 24}/images/{'A' * 23}0.png"}, "image is not"),  # another chat's
        ({"url": "//tracker.example/x.png"}, "image is not"),
        ({"width": True}, "image is not"),
        ({"height": -1}, "image is not"),
        ({"thumb": {"url": "https://tracker.example/pixel.gif", "width": 1, "height": 1}}, "image thumb is not"),
        ({"ref": None}, "image ref is not"),
        ({"ref": "file:../canary.txt"}, "image ref is not"),
        ({"ref": "file:CHAT/../../canary.txt"}, "image ref is not"),
        ({"ref": "file:/etc/passwd"}, "image ref is not"),
        ({"ref": "cloudinary:other/folder/AAAAAAAAAAAAAAAAAAAAAAAA"}, "image ref is not"),
    ],
)
def test_a_job_whose_image_is_not_one_we_stored_is_rejected(job, changes, reason):
    """Issue 30, finding 8: a forged job's image could be any link or tracker
    on the receiver's page, and its ref could name any file for deletion."""
    changes = {
        key: json.loads(json.dumps(value).replace("CHAT", str(job.chat_id))) for key, value in changes.items()
    }
    with pytest.raises(Reject, match=reason):
        Job.from_json(json.dumps({**job.fields(), "image": forged(job, **changes)}))


def test_the_form_says_what_the_worker_would():
    app = Flask(__name__)
    too_long = "x" * (MAX_TEXT + 1)
    for text in (too_long, ""):
        with app.test_request_context(method="POST", data={"client_id": "c" * 32, "text": text}):
            form = MessageForm()
            assert not form.validate()
            assert form.first_error() == text_problem(text, False)


# Edits and deletes travel the same queue (app/chats/sending/change.py): a job with a `kind`.


def test_a_change_goes_through_the_queue_unchanged_and_a_send_has_no_kind(job):
    from app.chats.sending.change import Change, is_change

    edit = Change.new("edit", "a" * 32, ObjectId(), ObjectId(), "new words", "b" * 32)
    assert Change.from_fields(json.loads(json.dumps(edit.fields()))) == edit
    assert set(edit.fields()) == {"kind", "client_id", "chat_id", "sender_id", "edit_id", "text", "at"}
    delete = Change.new("delete", "a" * 32, ObjectId(), ObjectId())
    assert set(delete.fields()) == {"kind", "client_id", "chat_id", "sender_id", "at"}
    assert is_change(edit.fields()) and not is_change(job.fields())


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"kind": "undo"}, "kind is not one of edit, delete"),
        ({"edit_id": "nope"}, "edit_id is not 32 hex digits"),
        ({"text": "x" * 4001}, "at most 4,000 characters"),
        ({"at": "yesterday"}, "at is not an ISO date"),
        ({"sender_id": "me"}, "sender_id is not an id"),
    ],
)
def test_a_bad_change_is_rejected_with_its_reason(fields, reason):
    from app.chats.sending.change import Change

    good = Change.new("edit", "a" * 32, ObjectId(), ObjectId(), "new words", "b" * 32).fields()
    with pytest.raises(Reject, match=reason):
        Change.from_fields({**good, **fields})


def test_the_edit_window_is_a_day_and_a_deleted_message_has_none():
    from datetime import timedelta

    from app.chats.sending.change import editable

    sent = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert editable({"created_at": sent}, sent + timedelta(hours=23, minutes=59))
    assert not editable({"created_at": sent}, sent + timedelta(hours=24))
    assert not editable({"created_at": sent, "deleted_at": sent}, sent)
