"""A change to a message its sender already sent: an edit (new text) or a
delete. It travels on `chat:messages` like a send, so it comes after the
send it changes, and is a job of one of two kinds (DESIGN.md's shapes):

    {"kind": "edit", "client_id", "chat_id", "sender_id", "edit_id", "text", "at"}
    {"kind": "delete", "client_id", "chat_id", "sender_id", "at"}

`client_id` names the message (its sender's client_id); `edit_id` is the
edit's own (the form's), and `at` when the web process accepted it. An
edit applies only when it is newer, by (at, edit_id), than the message's
current version, so a redelivered edit, or an older one arriving late,
changes nothing; a delete applies once."""

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId

from app import broker, clock, logs
from app.broker.consumer import Reject
from app.chats.sending.job import CLIENT_ID, _encodable, _object_id, text_problem
from app.connections import key, redis_client

log = logging.getLogger(__name__)

KINDS = ("edit", "delete")
# As Signal: a message can be edited for a day after it was sent (deleted at any time).
EDIT_WINDOW = timedelta(hours=24)
EDIT_IDS_KEPT = 24 * 3600  # seconds an edit_id is remembered, against a form submitted twice
TOO_LATE = "Messages can be edited for 24 hours after they are sent. You can still delete this one."


def editable(message, now=None):
    """A message's text may still be changed (not deleted, within EDIT_WINDOW)."""
    return not message.get("deleted_at") and (now or clock.now()) - message["created_at"] < EDIT_WINDOW


@dataclass(frozen=True)
class Change:
    """An edit or a delete on its way: what the queue carries."""

    kind: str
    client_id: str
    chat_id: ObjectId
    sender_id: ObjectId
    at: datetime
    text: str = ""
    edit_id: str = ""
    redelivered: bool = False
    request_id: str | None = None

    @classmethod
    def new(cls, kind, client_id, chat_id, sender_id, text="", edit_id=""):
        at = clock.now()
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # as MongoDB keeps it
        return cls(kind, client_id, chat_id, sender_id, at, text, edit_id, request_id=logs.request_id())

    @property
    def edit_key(self):
        """What orders edits of one message: the later `at` wins, then the greater edit_id."""
        return f"{self.at.isoformat(timespec='milliseconds')} {self.edit_id}"

    def fields(self):
        fields = {
            "kind": self.kind,
            "client_id": self.client_id,
            "chat_id": str(self.chat_id),
            "sender_id": str(self.sender_id),
            "at": self.at.isoformat(timespec="milliseconds"),
        }
        if self.kind == "edit":
            fields.update(edit_id=self.edit_id, text=self.text)
        if self.request_id:
            fields["request_id"] = self.request_id
        return fields

    @classmethod
    def from_fields(cls, fields, redelivered=False):
        """The change these JSON fields describe; Reject if they are not a well-formed one."""
        kind = fields.get("kind")
        if kind not in KINDS:
            raise Reject(f"kind is not one of {', '.join(KINDS)}")
        for name in ("client_id",) + (("edit_id",) if kind == "edit" else ()):
            if not isinstance(fields.get(name), str) or not CLIENT_ID.match(fields[name]):
                raise Reject(f"{name} is not 32 hex digits")
        text = fields.get("text", "") if kind == "edit" else ""
        if not (isinstance(text, str) and _encodable(text)):
            raise Reject("text is not a string")
        if kind == "edit" and len(text) > 4000:
            raise Reject(text_problem(text, True))
        try:
            at = datetime.fromisoformat(fields["at"])
        except (KeyError, TypeError, ValueError):
            raise Reject("at is not an ISO date") from None
        request_id = fields.get("request_id")
        return cls(
            kind,
            fields["client_id"],
            _object_id(fields, "chat_id"),
            _object_id(fields, "sender_id"),
            at,
            text,
            fields.get("edit_id", "") if kind == "edit" else "",
            redelivered,
            request_id if isinstance(request_id, str) and logs.REQUEST_ID.match(request_id) else None,
        )

    def checked(self):
        return Change.from_fields(json.loads(json.dumps(self.fields())))


def is_change(fields):
    """A job on chat:messages is a change when it names its kind (a send does not)."""
    return "kind" in fields


def claim_key(sender_id, edit_id):
    return key("edit", sender_id, edit_id)


def ask_claim(pipe, sender_id, edit_id):
    """Claim an edit_id, queued on `pipe` (a form submitted twice queues its
    edit once): returns what reads from the replies whether it was free."""
    start = len(pipe)
    pipe.set(claim_key(sender_id, edit_id), "1", nx=True, ex=EDIT_IDS_KEPT)
    return lambda replies: bool(replies[start])


def release(sender_id, edit_id):
    """The claimed edit was not queued: its form may be sent again."""
    redis_client().delete(claim_key(sender_id, edit_id))


def queue(change):
    """Queue the change after the sends before it (an edit's edit_id
    claimed); PublishError if the broker does not confirm it, and then
    the edit_id may be used again."""
    change.checked()
    try:
        broker.publish(broker.CHAT_MESSAGES, change.fields())
    except broker.PublishError:
        if change.kind == "edit":
            release(change.sender_id, change.edit_id)
        raise
