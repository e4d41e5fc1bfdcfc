"""The chat worker's side of a send: each queued job parsed back and
checked, then a batch of them delivered: numbered and saved (idempotent on
client_id), their chats updated, the messages and Chats entries pushed to
both members, and what a receiver is looking at marked seen."""

import logging
import time
from collections import Counter

from cachetools import LRUCache

from app import clock, logs, tracing
from app.broker.consumer import Reject, json_object
from app.chats import blocks, numbering, present, receipts, viewing
from app.chats.sending import change, changing, pending
from app.chats.sending.change import Change
from app.chats.sending.job import Job
from app.connections import redis_client
from app.data import chats, messages, users
from app.notifications import ask_after_delivery
from app.realtime import presence
from app.realtime.push import Outbox

log = logging.getLogger(__name__)


def parse(delivery):
    """The job a delivery carries (a send, or a change: an edit or a delete), checked; Reject if it is bad."""
    fields = json_object(delivery.body)
    if change.is_change(fields):
        job = Change.from_fields(fields, delivery.redelivered)
    else:
        job = Job.from_fields(fields, delivery.redelivered)
        tracing.stage(job.client_id, "consumed", at=delivery.received_at)
    check(job)
    return job


def check(job):
    """Reject a well-formed job that its sender may not send."""
    members = chats.membership(job.chat_id, job.sender_id)
    if members is None:
        raise Reject(f"{job.sender_id} is not a member of chat {job.chat_id}, or there is no such chat")
    if isinstance(job, Job) and job.reply_to and job.reply_to["sender_id"] not in members:
        raise Reject(f"the message {job.client_id} answers is not one of chat {job.chat_id}'s")


# The latest message this worker saved in each chat (its latest_message
# summary): a batch's messages follow on from it without reading the chats
# back, one MongoDB round trip of a batch's three, unless another worker
# saved one in between (see latest_before). The busiest chats stay.
_latest_saved = LRUCache(maxsize=100_000)


def deliver(jobs):
    """Deliver a batch of parsed jobs: its sends first (a change may be to a
    message sent in the same batch), then its changes, in order. Returns
    [(job, Retry or Reject)] for the changes not done."""
    sends = [job for job in jobs if not isinstance(job, Change)]
    if sends:
        deliver_sends(sends)
    return changing.apply([job for job in jobs if isinstance(job, Change)])


def deliver_sends(jobs):
    """Save, number, update, push and mark seen a batch of parsed sends; a job
    in a chat with a block is not delivered, and its sender is told why."""
    started_at, started = time.time(), time.perf_counter()
    blocked = blocks.of_many({job.chat_id for job in jobs})
    refuse([job for job in jobs if blocked[job.chat_id]], blocked)
    jobs = [job for job in jobs if not blocked[job.chat_id]]
    if not jobs:
        return
    chat_ids = {job.chat_id for job in jobs}
    unknown = chat_ids - _latest_saved.keys()
    before = chats.latest_messages(unknown) if unknown else {}  # how each pushed message follows on
    saved, state, looking, online, taken = save(jobs, clock.now())
    refuse(taken, blocked)
    jobs = [job for job in jobs if job not in taken]
    before.update(latest_before(saved, chat_ids - unknown))
    saved_at = time.perf_counter()
    for doc in saved:
        tracing.stage(doc["client_id"], "saved", user_id=doc["receiver_id"])
    pipe = redis_client().pipeline(transaction=False)
    for job in jobs:
        pending.discard(job, pipe)
    push(saved, state, looking, online, before, pipe)
    # A receiver who opened the chat after `save` looked, and before the
    # messages were stored, was missed by both `save` and their page's own
    # receipts (which found nothing yet): look again, now they are stored.
    unseen = {(doc["chat_id"], doc["receiver_id"]) for doc in saved if doc["seen_at"] is None} - looking
    ask_after_delivery(pipe, {receiver for _, receiver in unseen})  # an email, if they do not come to see
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


TAKEN = "Parley could not send this message. Copy it and send it again."


def refuse(jobs, blocked):
    """Jobs that will not be delivered (a block in their chat, or a client_id
    their sender used in another chat): they are no longer pending, and each
    sender's "Sending" bubble becomes "Not delivered", with why. (Stored and
    pushed regardless, a message left "Not sent" before a block reached the
    blocker's page when its sender pressed Retry after it.)"""
    if not jobs:
        return
    receivers = {job.client_id: receiver(job) for job in jobs}
    people = users.recent_people({job.sender_id for job in jobs} | set(receivers.values()))
    outbox, pipe = Outbox(), redis_client().pipeline(transaction=False)
    for job in jobs:
        other = people.get(receivers[job.client_id], {}).get("name", "Someone")
        reason = blocks.refusal(blocked.get(job.chat_id), job.sender_id, other) or TAKEN
        doc = job.message(receivers[job.client_id])
        view = present.refused(doc, reason, present.zone_of(people.get(job.sender_id)))
        outbox.add(job.sender_id, present.message_update(view))
        pending.discard(job, pipe)
    outbox.send(pipe)
    pipe.execute()
    log.info("refused jobs", extra=logs.fields(jobs=len(jobs)))


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
    for chat_id, doc in last.items():
        if chat_id not in _latest_saved or _latest_saved[chat_id]["seq"] < doc["seq"]:
            _latest_saved[chat_id] = present.latest_message(doc)
    return before


def receiver(job):
    return chats.other_member(chats.members(job.chat_id), job.sender_id)


def save(jobs, now):
    """Save the jobs' messages, number them and update their chats. Returns
    the saved messages, in each chat's order, the chats as they now are, the
    (chat, member) pairs where that member is looking, the members online,
    and the jobs not saved because their sender used the client_id in
    another chat. A job seen before (redelivered, or sent twice) keeps its first save."""
    saved, redone = {}, []
    for job in jobs:
        if job.redelivered:
            found = messages.by_client_ids(job.sender_id, [job.client_id]).get(job.client_id)
            # Saved by an earlier try, which may have stopped before updating the chat.
            if found and found["chat_id"] == job.chat_id:
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
    taken = [waiting[cid] for cid in new if saved[cid]["chat_id"] != waiting[cid].chat_id]
    for job in taken:
        del saved[job.client_id], new[job.client_id]

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
    jobs = [job for job in jobs if job not in taken]
    return ordered, chat_state(jobs, latest, looking), looking, online, taken


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


def push(saved, chat_state, looking, online, before, pipe):
    """The saved messages to both members (announced to the receiver) and
    each member's Chats entry, queued on `pipe`. `before` is each chat's
    latest message before the batch."""
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
    outbox.send(pipe)

