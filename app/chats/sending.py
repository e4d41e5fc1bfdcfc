"""A message's life, from the send form to the other person's page.

1. The send view builds a `Job` and `accept`s it: it is kept as pending (so
   a reloaded page, or one without JavaScript, still shows it "Sending") and
   published to `chat:messages`, where the broker confirms it.
2. The chat worker `parse`s each job back (the same rules as the form) and
   `deliver`s what arrived together as one batch: number and save the
   messages (idempotent on client_id), update their chats, push the messages
   and Chats entries to both members, and mark seen what a receiver is
   looking at. Then the worker acks.
"""

import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app import broker, clock, logs, tracing
from app.broker.consumer import Reject, json_object
from app.chats import numbering, present, receipts, viewing
from app.connections import key, redis_client
from app.data import chats, messages, users
from app.realtime import presence
from app.realtime.push import Outbox

log = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_TEXT = 4000
MAX_ALT = 300
PENDING_TTL = 24 * 3600


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
        fields = json_object(body)
        if not isinstance(fields.get("client_id"), str) or not CLIENT_ID.match(fields["client_id"]):
            raise Reject("client_id is not 32 hex digits")
        text, image = fields.get("text"), fields.get("image")
        if not isinstance(text, str):
            raise Reject("text is not a string")
        _check_image(image)
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
            _object_id(fields, "chat_id"),
            _object_id(fields, "sender_id"),
            text,
            image,
            sent_at,
            redelivered,
            request_id if isinstance(request_id, str) and logs.REQUEST_ID.match(request_id) else None,
        )

    def message(self, receiver_id):
        """The message document for this job, not yet numbered or saved."""
        return {
            "chat_id": self.chat_id,
            "sender_id": self.sender_id,
            "receiver_id": receiver_id,
            "client_id": self.client_id,
            "text": self.text,
            "image": self.image,
            "seen_at": None,
            "created_at": self.sent_at,
        }


def _object_id(fields, name):
    if not isinstance(fields.get(name), str) or not ObjectId.is_valid(fields[name]):
        raise Reject(f"{name} is not an id")
    return ObjectId(fields[name])


def _picture(fields):
    return (
        isinstance(fields, dict)
        and isinstance(fields.get("url"), str)
        and isinstance(fields.get("width"), int)
        and isinstance(fields.get("height"), int)
    )


def _check_image(image):
    if image is None:
        return
    if not (_picture(image) and isinstance(image.get("alt", ""), str)):
        raise Reject("image is not {url, width, height, alt}")
    if "thumb" in image and not _picture(image["thumb"]):
        raise Reject("image thumb is not {url, width, height}")


# 1. Accepting a send (the web process)


def pending_key(chat_id, sender_id):
    return key("pending", chat_id, sender_id)


def unconfirmed_key(chat_id, sender_id):
    return key("unconfirmed", chat_id, sender_id)


def accept(job):
    """Keep the job as pending and queue it. False if this client_id is
    already on its way (a double submit). PublishError if the broker does
    not confirm it: then nothing of it is kept, unless the broker may have
    it after all (`maybe_queued`), when it stays pending, marked unconfirmed,
    and a second try queues it again (the worker saves a client_id once)."""
    name, unconfirmed = pending_key(job.chat_id, job.sender_id), unconfirmed_key(job.chat_id, job.sender_id)
    pipe = redis_client().pipeline(transaction=False)
    pipe.hsetnx(name, job.client_id, json.dumps(job.fields()))
    pipe.expire(name, PENDING_TTL)
    pipe.sismember(unconfirmed, job.client_id)
    added, _, retried = pipe.execute()
    if not (added or retried):
        return False
    try:
        broker.publish(broker.CHAT_MESSAGES, job.fields())
    except broker.PublishError as error:
        pipe = redis_client().pipeline(transaction=False)
        if error.maybe_queued or retried:  # an earlier try, or this one, may be queued
            pipe.sadd(unconfirmed, job.client_id)
            pipe.expire(unconfirmed, PENDING_TTL)
        else:
            pipe.hdel(name, job.client_id)
            pipe.srem(unconfirmed, job.client_id)
        pipe.execute()
        raise
    if retried:
        redis_client().srem(unconfirmed, job.client_id)
    return True


def unconfirmed(chat_id, sender_id, client_id):
    """The sender's pending job that the broker may not have (shown "Not sent"), or None."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.hget(pending_key(chat_id, sender_id), client_id)
    pipe.sismember(unconfirmed_key(chat_id, sender_id), client_id)
    fields, maybe_lost = pipe.execute()
    return Job.from_json(fields) if fields and maybe_lost else None


def forget(job):
    """The sender deleted a job shown "Not sent": it is no longer pending. (If
    the broker had it after all, the worker still delivers it.)"""
    pipe = redis_client().pipeline(transaction=False)
    pipe.hdel(pending_key(job.chat_id, job.sender_id), job.client_id)
    pipe.srem(unconfirmed_key(job.chat_id, job.sender_id), job.client_id)
    pipe.execute()


def pending(chat_id, sender_id):
    """The sender's jobs in this chat that the worker has not saved yet."""
    return [Job.from_json(fields) for fields in redis_client().hvals(pending_key(chat_id, sender_id))]


def pending_messages(chat_id, sender_id, receiver_id):
    """The pending jobs as message documents, for the sender's chat page;
    one the broker may not have is marked `unconfirmed`."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.hvals(pending_key(chat_id, sender_id))
    pipe.smembers(unconfirmed_key(chat_id, sender_id))
    jobs, unconfirmed = pipe.execute()
    found = []
    for fields in jobs:
        message = Job.from_json(fields).message(receiver_id)
        if message["client_id"] in unconfirmed:
            message["unconfirmed"] = True
        found.append(message)
    return found


# 2. Delivering (the chat worker)


def parse(delivery):
    """The job a delivery carries, with its sender checked against the chat; Reject if it is bad."""
    job = Job.from_json(delivery.body, delivery.redelivered)
    tracing.stage(job.client_id, "consumed", at=delivery.received_at)
    if chats.membership(job.chat_id, job.sender_id) is None:
        raise Reject(f"{job.sender_id} is not a member of chat {job.chat_id}, or there is no such chat")
    return job


# The latest message this worker saved in each chat (its latest_message
# summary): a batch's messages follow on from it without reading the chats
# back, one MongoDB round trip of a batch's three, unless another worker
# saved one in between (see latest_before).
_latest_saved = {}


def deliver(jobs):
    """Save, number, update, push and mark seen a batch of parsed jobs."""
    started_at, started = time.time(), time.perf_counter()
    chat_ids = {job.chat_id for job in jobs}
    unknown = chat_ids - _latest_saved.keys()
    before = chats.latest_messages(unknown) if unknown else {}  # how each pushed message follows on
    saved, state, looking, online = save(jobs, clock.now())
    before.update(latest_before(saved, chat_ids - unknown))
    saved_at = time.perf_counter()
    for doc in saved:
        tracing.stage(doc["client_id"], "saved", user_id=doc["receiver_id"])
    pipe = redis_client().pipeline(transaction=False)
    push(jobs, saved, state, looking, online, before, pipe)
    # A receiver who opened the chat after `save` looked, and before the
    # messages were stored, was missed by both `save` and their page's own
    # receipts (which found nothing yet): look again, now they are stored.
    unseen = {(doc["chat_id"], doc["receiver_id"]) for doc in saved if doc["seen_at"] is None} - looking
    read_late_viewers = viewing.ask_who_is_viewing(pipe, unseen)
    late_viewers = read_late_viewers(pipe.execute())
    pushed_at = time.perf_counter()
    for job in jobs:
        tracing.stage(job.client_id, "pushed")
    for chat_id, receiver_id in late_viewers:
        receipts.mark_seen(state.get(chat_id) or chats.get(chat_id), receiver_id)
    tracing.event(
        "batch",
        started_at,
        len(jobs),
        f"{(time.perf_counter() - started) * 1000:.1f}",
        f"{(saved_at - started) * 1000:.1f}",
        f"{(pushed_at - saved_at) * 1000:.1f}",
    )
    log.info(
        "delivered a batch",
        extra=logs.fields(
            jobs=len(jobs),
            duration_ms=(time.perf_counter() - started) * 1000,
            request_ids=",".join(job.request_id for job in jobs if job.request_id) or None,
        ),
    )


def latest_before(saved, remembered):
    """{chat_id: the message before the batch's first in that chat} for the
    `remembered` chats, and remember the batch's latest. What this worker
    saved last comes just before unless numbers were given in between (by
    another worker, or skipped): then the message is read."""
    first, last = {}, {}
    for doc in saved:  # in each chat's order
        first.setdefault(doc["chat_id"], doc)
        last[doc["chat_id"]] = doc
    before = {}
    for chat_id in remembered:
        known = _latest_saved[chat_id]
        if chat_id in first and known["seq"] != first[chat_id]["seq"] - 1:
            known = messages.before(chat_id, first[chat_id]["seq"])
        if known is not None:
            before[chat_id] = known
    if len(_latest_saved) > 100_000:
        _latest_saved.clear()
    for chat_id, doc in last.items():
        if chat_id not in _latest_saved or _latest_saved[chat_id]["seq"] < doc["seq"]:
            _latest_saved[chat_id] = present.latest_message(doc)
    return before


def receiver(job):
    return chats.other_member(chats.members(job.chat_id), job.sender_id)


def save(jobs, now):
    """Save the jobs' messages, number them and update their chats. Returns
    the saved messages, in each chat's order, the chats as they now are, the
    (chat, member) pairs where that member is looking, and the members
    online. A job seen before (redelivered, or sent twice) keeps its first save."""
    saved, redone = {}, []
    for job in jobs:
        if job.redelivered:
            found = messages.by_client_ids(job.sender_id, [job.client_id]).get(job.client_id)
            if found:  # saved by an earlier try, which may have stopped before updating the chat
                saved[job.client_id] = found
                redone.append(found)
    waiting = {job.client_id: job for job in jobs if job.client_id not in saved}
    # Who is looking, the new messages' numbers and who is online (for the pushes): one round trip.
    pairs = {(job.chat_id, member) for job in jobs for member in chats.members(job.chat_id)}
    pipe = redis_client().pipeline(transaction=False)
    read_looking = viewing.ask_who_is_viewing(pipe, pairs)
    read_numbers = numbering.ask_reserve(pipe, Counter(job.chat_id for job in waiting.values()))
    read_online = presence.ask_online(pipe, {member for _, member in pairs})
    replies = pipe.execute()
    looking, online = read_looking(replies), read_online(replies)
    new = {}
    for client_id, job in waiting.items():
        doc = new[client_id] = job.message(receiver(job))
        if (job.chat_id, doc["receiver_id"]) in looking:
            doc["seen_at"] = now
    _number_and_insert(list(new.values()), saved, read_numbers(replies))

    latest, added = {}, {}
    for doc in sorted([saved[cid] for cid in new if saved[cid] is new[cid]] + redone, key=lambda doc: doc["seq"]):
        latest[doc["chat_id"]] = present.latest_message(doc)
        if doc["seen_at"] is None:
            added.setdefault(doc["chat_id"], Counter())[doc["receiver_id"]] += 1
    recounted = {}
    for doc in redone:
        recounted.setdefault(doc["chat_id"], {})[doc["receiver_id"]] = messages.count_unseen(
            doc["chat_id"], doc["receiver_id"]
        )
    chats.record_messages(latest, added, recounted)
    ordered = sorted(saved.values(), key=lambda doc: (doc["chat_id"], doc["seq"]))
    return ordered, chat_state(jobs, latest, looking), looking, online


def _number_and_insert(waiting, saved, last):
    """Number the new messages and insert them, adding each to `saved` (or
    the copy saved first, for a job sent twice). `last` is each chat's last
    number reserved for them. A number found taken (the counter went back
    with Redis) is given again, above what is stored."""
    while True:
        for doc in reversed(waiting):
            doc["seq"] = last[doc["chat_id"]]
            last[doc["chat_id"]] -= 1
        duplicates, collided = messages.save_all(waiting)
        for doc in waiting:
            if doc["client_id"] in duplicates:  # sent twice: the first one stands
                saved[doc["client_id"]] = messages.by_client_ids(doc["sender_id"], [doc["client_id"]])[doc["client_id"]]
            elif doc["client_id"] not in collided:
                saved[doc["client_id"]] = doc
        waiting = [doc for doc in waiting if doc["client_id"] in collided]
        if not waiting:
            return
        last = numbering.again(Counter(doc["chat_id"] for doc in waiting))


def chat_state(jobs, latest, looking):
    """Each chat as it now is. Where both members are looking (a conversation
    in full flow) their unread counts are nothing and the batch holds the
    latest message, so there is no need to read the chat back."""
    state, unknown = {}, set()
    for job in jobs:
        members = chats.members(job.chat_id)
        if job.chat_id in latest and all((job.chat_id, member) in looking for member in members):
            summary = latest[job.chat_id]
            state[job.chat_id] = {
                "_id": job.chat_id,
                "members": list(members),
                "latest_message": summary,
                "updated_at": summary["at"],
                "unread": {},
            }
        else:
            unknown.add(job.chat_id)
    if unknown:
        state.update(chats.get_many(unknown))
    return state


def push(jobs, saved, chat_state, looking, online, before, pipe):
    """The saved messages to both members (announced to the receiver), each
    member's Chats entry, and the sent jobs no longer pending, queued on
    `pipe`. `before` is each chat's latest message before the batch."""
    member_ids = {member for chat in chat_state.values() for member in chat["members"]}
    people = users.recent_people(member_ids)
    names = {user_id: person["name"] for user_id, person in people.items()}
    outbox = Outbox()
    for user_id, html, events in present.message_pushes(saved, before, people):
        outbox.add(user_id, html, events=events)
    for chat_id, chat in chat_state.items():
        for member in chat["members"]:
            unread = 0 if (chat_id, member) in looking else None
            tz = present.zone_of(people.get(member))
            outbox.add(member, present.entry_update(present.chat_entry(chat, member, names, online, unread, tz)))
    for job in jobs:
        pipe.hdel(pending_key(job.chat_id, job.sender_id), job.client_id)
        pipe.srem(unconfirmed_key(job.chat_id, job.sender_id), job.client_id)
    outbox.send(pipe)

