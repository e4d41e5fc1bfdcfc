"""A missed-message check: when a person's check falls due (schedule.py),
mail them what they have not seen and no email has told them of yet.

MongoDB holds the truth, so a check may run any number of times, and stop
anywhere, and still mail each message once:

1. The email to send is kept on the person as `missed_mail.pending` (its
   job and key, the messages it covers) before it is queued. A check that
   finds one pending (its worker stopped before the end) queues that one
   again, never a new one.
2. It is queued on `send-mail`, with its key: the mail worker sends a key
   once (app/data/sent_mail.py), so queuing it twice sends it once.
3. Its messages are marked mailed, their chats no longer wait for mail
   for the person, and the pending email is cleared.

What is due waits for the person's delay after the first message the
email would cover, so an email is at most one per delay, and a person who
reads first gets none. Chats with a block in them are never mailed about.
"""

import uuid

from app import broker, clock, letters
from app.data import chats, messages, users
from app.faults import step
from app.notifications import settings
from app.notifications.letters import MAX_CHATS, MAX_SHOWN, MISSED_MESSAGES


def check(user_id):
    """Mail `user_id` what waits for them, if it is due; returns when to look again (a time), or None."""
    person = users.to_reach(user_id)
    if person is None:  # the account is gone
        return None
    step("mail:read")
    pending = (person.get("missed_mail") or {}).get("pending")
    if pending:
        send(user_id, pending)
        person = users.to_reach(user_id)  # what came meanwhile waits for the next email
    waiting, settled = unmailed(user_id)
    if settled:
        chats.mailed(user_id, settled)  # blocked chats: never mailed about
    delay = settings.email_delay(person)
    if not waiting:
        return None
    if delay is None:  # "Never": they wait in their chats, not for mail
        chats.mailed(user_id, highest_seqs(waiting))
        return None
    due = waiting[0]["created_at"].timestamp() + delay
    if due > clock.time():
        return due
    key = f"missed:{user_id}:{uuid.uuid4().hex}"
    pending = {
        "key": key,
        "job": letters.job(person["email"], MISSED_MESSAGES, values(person, waiting), key),
        "messages": [message["_id"] for message in waiting],
        "chats": {str(chat_id): seq for chat_id, seq in highest_seqs(waiting).items()},
    }
    if not users.begin_missed_mail(user_id, pending):
        return clock.time()  # another check began one: look again, and queue that one
    step("mail:pending")
    send(user_id, pending)
    return None


def send(user_id, pending):
    """Queue the pending email, mark what it covers, clear it (each part safe to do again)."""
    broker.publish(broker.SEND_MAIL, pending["job"])
    step("mail:queued")
    messages.mark_told(pending["messages"], "mailed_at", clock.now())
    step("mail:marked")
    chats.mailed(user_id, {chats.parse_id(chat_id): seq for chat_id, seq in pending["chats"].items()})
    users.end_missed_mail(user_id, pending["key"], clock.now())
    step("mail:done")


def unmailed(user_id):
    """(the person's unseen messages no email has told them of, oldest
    first, leaving out chats with a block; {chat_id: highest seq} of those
    blocked chats' such messages)."""
    unseen = [message for message in messages.unseen_by(user_id) if not message.get("mailed_at")]
    blocked = {
        chat_id for chat_id, chat in chats.get_many({m["chat_id"] for m in unseen}).items() if chat.get("blocked_by")
    }
    waiting = sorted((m for m in unseen if m["chat_id"] not in blocked), key=lambda m: m["created_at"])
    return waiting, highest_seqs([m for m in unseen if m["chat_id"] in blocked])


def highest_seqs(found):
    highest = {}
    for message in found:
        highest[message["chat_id"]] = max(highest.get(message["chat_id"], 0), message["seq"])
    return highest


def values(person, waiting):
    """The letter's values: each chat's count and latest messages, the chat
    with the newest first. Text only if the person (and the operator) allow it."""
    quoting = settings.quotes_text(person)
    by_chat = {}
    for message in waiting:
        by_chat.setdefault(message["chat_id"], []).append(message)
    ordered = sorted(by_chat.values(), key=lambda found: found[-1]["created_at"], reverse=True)
    names = users.names({found[0]["sender_id"] for found in ordered[:MAX_CHATS]})
    listed, rest = ordered[:MAX_CHATS], ordered[MAX_CHATS:]
    return {
        "name": person["name"],
        "user_id": str(person["_id"]),
        "time_zone": person.get("time_zone"),
        "text": bool(quoting),
        "chats": [
            {
                "chat_id": str(found[0]["chat_id"]),
                "from": names[found[0]["sender_id"]],
                "count": len(found),
                "messages": [quoted(message, quoting) for message in found[-MAX_SHOWN:]],
            }
            for found in listed
        ],
        "more_chats": len(rest),
        "more_messages": sum(len(found) for found in rest),
    }


def quoted(message, quoting):
    image = message.get("image")
    return {
        "at": message["created_at"].isoformat(),
        "text": (message.get("text") or "") if quoting else "",
        "image": None if not image else (image.get("alt") or "") if quoting else "",
    }
