"""Reaching people who are away: an email about the messages they missed
(mail.py, letters.py), and for those who want it a notification in their
browsers (browsers.py); when, per person, in settings.py; when each is
due, in schedule.py, run by the notify worker (scheduler.py)."""

from urllib.parse import urlsplit

from app import clock
from app.data import subscriptions, users
from app.notifications import schedule, settings


def ask_after_delivery(pipe, receivers):
    """For the people just sent messages they have not seen, queue on the
    chat worker's `pipe` a check at the end of their delay (one command for
    the batch, none if nobody is away). Their settings come from
    recent_people, which the worker's pushes have just read."""
    if not receivers:
        return
    people, now, due = users.recent_people(receivers), clock.time(), {}
    for user_id in receivers:
        person = people.get(user_id)
        delay = settings.email_delay(person)
        if delay is not None:
            due[schedule.check("mail", user_id)] = now + delay
        if settings.browsers(person):
            due[schedule.check("push", user_id)] = now + settings.PUSH_AFTER
    schedule.ask(pipe, due)


def forget(user_id):
    """A deleted account: its browsers and its checks go (its settings go with the user)."""
    subscriptions.remove_all(user_id)
    schedule.forget(user_id)


def export(user):
    """The person's notification settings and browsers, for their data's export."""
    return {
        "email": dict(settings.email_choices())[settings.email_choice(user)],
        "include_message_text": bool(settings.quotes_text(user)),
        "browsers": [
            {
                "push_service": urlsplit(found["endpoint"]).hostname,
                "since": found["created_at"].isoformat(timespec="seconds"),
            }
            for found in subscriptions.of(user["_id"])
        ],
    }
