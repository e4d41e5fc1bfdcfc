"""The chat worker: for each job on `chat:messages`, save the message (once,
whatever the redeliveries), update the chat's latest message, push the
message to both members, mark it seen if the receiver has the chat open
(the pushed message then is the receipt) or else push the receiver's new
unread count, and only then ack.

Jobs that arrive together are handled together, so a busy chat costs a few
round trips per batch rather than per message.
"""

import json
import logging
import re
import time
from collections import Counter
from datetime import UTC, datetime

from bson import ObjectId
from bson.errors import InvalidId

from app import broker, create_app_or_exit
from app.chats import numbering, pending, present, receipts
from app.chats.forms import MAX_TEXT
from app.connections import redis_client
from app.data import chats, messages, users
from app.realtime import presence, viewing
from app.realtime.push import Outbox
from workers.consumer import OUTAGES, Consumer, Reject, configure_logging, run_each

log = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[0-9a-f]{32}$")
PREFETCH = 100


class Job:
    def __init__(self, delivery, fields, members):
        self.delivery = delivery
        self.fields = fields
        self.chat_id = ObjectId(fields["chat_id"])
        self.sender_id = ObjectId(fields["sender_id"])
        self.receiver_id = next(member for member in members if member != self.sender_id)
        self.client_id = fields["client_id"]


def _object_id(fields, name):
    try:
        return ObjectId(fields.get(name))
    except (InvalidId, TypeError):
        raise Reject(f"{name} is not an id") from None


def _check_image(image):
    if image is None:
        return
    if not (
        isinstance(image, dict)
        and isinstance(image.get("url"), str)
        and isinstance(image.get("width"), int)
        and isinstance(image.get("height"), int)
        and isinstance(image.get("alt", ""), str)
    ):
        raise Reject("image is not {url, width, height, alt}")


def parse(delivery):
    try:
        fields = json.loads(delivery.body)
    except ValueError:
        raise Reject("not JSON") from None
    if not isinstance(fields, dict):
        raise Reject("not a JSON object")
    if not isinstance(fields.get("client_id"), str) or not CLIENT_ID.match(fields["client_id"]):
        raise Reject("client_id is not 32 hex digits")
    if not isinstance(fields.get("text"), str) or len(fields["text"]) > MAX_TEXT:
        raise Reject("text is not a string of at most 4000 characters")
    _check_image(fields.get("image"))
    if not fields["text"] and not fields.get("image"):
        raise Reject("the message is empty")
    try:
        datetime.fromisoformat(fields["sent_at"])
    except (KeyError, TypeError, ValueError):
        raise Reject("sent_at is not an ISO date") from None
    chat_id, sender_id = _object_id(fields, "chat_id"), _object_id(fields, "sender_id")
    members = chats.members(chat_id)
    if members is None:
        raise Reject(f"no chat {chat_id}")
    if sender_id not in members:
        raise Reject(f"{sender_id} is not a member of chat {chat_id}")
    return Job(delivery, fields, members)


def save(jobs, now):
    """Save the jobs' messages, number them and update their chats. Returns
    the saved messages, in each chat's order, the chats as they now are, and
    the (chat, member) pairs where that member is looking. A job seen before
    (redelivered, or sent twice) keeps its first save."""
    saved, redone = {}, []
    for job in jobs:
        if job.delivery.redelivered:
            found = messages.by_client_ids(job.sender_id, [job.client_id]).get(job.client_id)
            if found:  # saved by an earlier try, which may have stopped before updating the chat
                saved[job.client_id] = found
                redone.append(found)
    fresh = [job for job in jobs if job.client_id not in saved]
    looking = viewing.who_is_viewing(
        {(job.chat_id, member) for job in jobs for member in (job.sender_id, job.receiver_id)}
    )
    new = {}
    for job in fresh:
        doc = new[job.client_id] = messages.from_job(job.fields, job.receiver_id)
        if (job.chat_id, job.receiver_id) in looking:
            doc["seen_at"] = now
    waiting = [doc for doc in new.values() if doc["client_id"] not in saved]
    for _ in range(3):  # a number taken twice (only after Redis lost a counter) is numbered again
        last = numbering.reserve(Counter(doc["chat_id"] for doc in waiting))
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
            break
    else:
        raise RuntimeError(f"could not number {len(waiting)} message(s)")

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
    return ordered, chat_state(jobs, latest, looking), looking


def chat_state(jobs, latest, looking):
    """Each chat as it now is. Where both members are looking (a conversation
    in full flow) their unread counts are nothing and the batch holds the
    latest message, so there is no need to read the chat back."""
    state, unknown = {}, set()
    for job in jobs:
        members = (job.sender_id, job.receiver_id)
        if job.chat_id in latest and all((job.chat_id, member) in looking for member in members):
            summary = latest[job.chat_id]
            state[job.chat_id] = {
                "_id": job.chat_id,
                "members": sorted(members),
                "latest_message": summary,
                "updated_at": summary["at"],
                "unread": {},
            }
        else:
            unknown.add(job.chat_id)
    if unknown:
        state.update(chats.get_many(unknown))
    return state


def push_all(jobs, saved, chat_state, looking):
    member_ids = {member for job in jobs for member in (job.sender_id, job.receiver_id)}
    names = NAMES.get(member_ids)
    online = presence.online(member_ids)
    outbox = Outbox()
    for doc in saved:
        sender, receiver = doc["sender_id"], doc["receiver_id"]
        sender_name = names.get(sender, "Someone")
        outbox.add(sender, present.message_update(present.message(doc, sender, sender_name)))
        outbox.add(receiver, present.message_update(present.message(doc, receiver, sender_name), announce=True))

    for chat_id, chat in chat_state.items():
        for member in chat["members"]:
            other = chats.other_member(chat, member)
            unread = 0 if (chat_id, member) in looking else chats.unread(chat, member)
            entry = present.chat_entry(chat, member, names.get(other, "Someone"), unread, other in online)
            outbox.add(member, present.entry_update(entry))

    pipe = redis_client().pipeline(transaction=False)
    for job in jobs:
        pending.remove(job.chat_id, job.sender_id, job.client_id, pipe)
    outbox.send(pipe)
    pipe.execute()


class NameCache:
    """People's names for a minute: a rename shows in pushes within that time."""

    def __init__(self, seconds=60):
        self.seconds = seconds
        self.names = {}

    def get(self, user_ids):
        now = time.monotonic()
        missing = [user_id for user_id in user_ids if self.names.get(user_id, (None, 0))[1] < now]
        if missing:
            for user_id, name in users.names(missing).items():
                self.names[user_id] = (name, now + self.seconds)
            if len(self.names) > 100_000:
                self.names.clear()
        return {user_id: self.names[user_id][0] for user_id in user_ids if user_id in self.names}


NAMES = NameCache()


def process(jobs):
    now = datetime.now(UTC)
    saved, state, looking = save(jobs, now)
    push_all(jobs, saved, state, looking)
    mark_seen_by_late_viewers(saved, state, looking)


def mark_seen_by_late_viewers(saved, state, looking):
    """A receiver who opened the chat after `save` looked and before the
    messages were stored was missed by both: by `save`, and by their page's
    own receipts, which found nothing yet. Look again, now they are stored."""
    unseen = {(doc["chat_id"], doc["receiver_id"]) for doc in saved if doc["seen_at"] is None} - looking
    for chat_id, receiver_id in viewing.who_is_viewing(unseen):
        receipts.mark_seen(state.get(chat_id) or chats.get(chat_id), receiver_id)


def handle(deliveries):
    """Parse every delivery, then save and push the good ones as one batch.
    If the batch fails for a reason other than an outage, go one by one to
    find the job at fault."""
    failures, jobs = {}, []
    for delivery in deliveries:
        try:
            jobs.append(parse(delivery))
        except Reject as reason:
            failures[delivery] = reason
    if not jobs:
        return failures
    try:
        process(jobs)
    except OUTAGES:
        raise
    except Exception:
        log.exception("a batch of %d failed; retrying one by one", len(jobs))
        failures.update(run_each(lambda delivery: process([parse(delivery)]))([job.delivery for job in jobs]))
    return failures


def main():
    configure_logging("chat_worker")
    app = create_app_or_exit()
    with app.test_request_context():  # partials use url_for, which needs a request context
        Consumer(app, broker.CHAT_MESSAGES, handle, prefetch=PREFETCH).run()


if __name__ == "__main__":
    main()
