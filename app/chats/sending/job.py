"""A message on its way: the job the send view builds, `chat:messages`
carries (DESIGN.md's shape) and the chat worker parses back, checked by the
same rules as the form."""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app import clock, logs
from app.broker.consumer import Reject, json_object
from app.chats import images
from app.data import messages

CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_TEXT = 4000
MAX_ALT = 300


def text_problem(text, has_image):
    """Why a message with this text (trimmed) cannot be sent, or None."""
    if len(text) > MAX_TEXT:
        return f"A message can be at most {MAX_TEXT:,} characters; this one has {len(text):,}."
    if not text and not has_image:
        return "Write a message or attach an image."
    return None


@dataclass(frozen=True)
class Job:
    """One message on its way: what the queue carries."""

    client_id: str
    chat_id: ObjectId
    sender_id: ObjectId
    text: str
    image: dict | None
    sent_at: datetime
    redelivered: bool = False  # the worker may have done it before
    request_id: str | None = None  # the send's, so the worker's log line for it can be found

    @classmethod
    def new(cls, client_id, chat_id, sender_id, text, image=None):
        """A job for the send view; the time is kept to the millisecond, as MongoDB keeps it."""
        at = clock.now()
        sent_at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        return cls(client_id, chat_id, sender_id, text, image, sent_at, request_id=logs.request_id())

    def fields(self):
        """The job as JSON fields (DESIGN.md's chat:messages shape, and the request id when there is one)."""
        fields = {
            "client_id": self.client_id,
            "chat_id": str(self.chat_id),
            "sender_id": str(self.sender_id),
            "text": self.text,
            "image": self.image,
            "sent_at": self.sent_at.isoformat(timespec="milliseconds"),
        }
        if self.request_id:
            fields["request_id"] = self.request_id
        return fields

    @classmethod
    def from_json(cls, body, redelivered=False):
        """The job in a queued body; Reject if it is not a well-formed job."""
        return cls.from_fields(json_object(body), redelivered)

    @classmethod
    def from_fields(cls, fields, redelivered=False):
        """The job these JSON fields describe; Reject if they are not a
        well-formed job. The one definition of a job: the worker checks what
        it consumes with it, and the send view what it is about to accept."""
        if not isinstance(fields.get("client_id"), str) or not CLIENT_ID.match(fields["client_id"]):
            raise Reject("client_id is not 32 hex digits")
        text, image = fields.get("text"), fields.get("image")
        if not (isinstance(text, str) and _encodable(text)):
            raise Reject("text is not a string")
        chat_id = _object_id(fields, "chat_id")
        _check_image(image, chat_id)
        problem = text_problem(text, bool(image))
        if problem:
            raise Reject(problem)
        try:
            sent_at = datetime.fromisoformat(fields["sent_at"])
        except (KeyError, TypeError, ValueError):
            raise Reject("sent_at is not an ISO date") from None
        request_id = fields.get("request_id")
        return cls(
            fields["client_id"],
            chat_id,
            _object_id(fields, "sender_id"),
            text,
            image,
            sent_at,
            redelivered,
            request_id if isinstance(request_id, str) and logs.REQUEST_ID.match(request_id) else None,
        )

    def checked(self):
        """This job as the worker will read it; Reject if it would not (then it must not be accepted)."""
        return Job.from_fields(json.loads(json.dumps(self.fields())), self.redelivered)

    def message(self, receiver_id):
        """The message document for this job, not yet numbered or saved."""
        return {
            "chat_id": self.chat_id,
            "sender_id": self.sender_id,
            "receiver_id": receiver_id,
            "client_id": self.client_id,
            **messages.text_fields(self.text),
            "image": self.image,
            "seen_at": None,
            "created_at": self.sent_at,
        }


def _object_id(fields, name):
    if not isinstance(fields.get(name), str) or not ObjectId.is_valid(fields[name]):
        raise Reject(f"{name} is not an id")
    return ObjectId(fields[name])


def _encodable(text):
    """Text MongoDB can store (a lone surrogate cannot be)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _picture(fields, chat_id):
    return (
        isinstance(fields, dict)
        and isinstance(fields.get("url"), str)
        and images.our_url(fields["url"], chat_id)
        and type(fields.get("width")) is int
        and type(fields.get("height")) is int
        and 0 < fields["width"] <= images.MAX_SIDE
        and 0 < fields["height"] <= images.MAX_SIDE
    )


def _check_image(image, chat_id):
    """An image as images.store makes it, in this chat: our storage's
    reference, and an https URL of ours or our own image route. A forged job
    could point a page at a tracker or a javascript: link, and a deletion at
    any file."""
    if image is None:
        return
    if not (_picture(image, chat_id) and isinstance(image.get("alt", ""), str) and _encodable(image.get("alt", ""))):
        raise Reject("image is not {url, width, height, alt} of this chat's")
    if not images.our_ref(image.get("ref"), chat_id):
        raise Reject("image ref is not one of this chat's stored images")
    if "thumb" in image and not _picture(image["thumb"], chat_id):
        raise Reject("image thumb is not {url, width, height} of this chat's")
