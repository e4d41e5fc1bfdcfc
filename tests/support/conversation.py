"""A lived-in conversation for the screen tests: two named people, signed in
by cookie (no email round trip), and days of history with images, written
with the app's own data layer as the chat worker would have written it."""

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests.support.people import session_cookies, unique_email

# (minutes after the day's first message, sender, text): groups, long words, a long URL.
DAY = [
    (0, "bob", "Morning! Did you see the plans for the weekend?"),
    (1, "bob", "I put everything in the shared folder."),
    (2, "alice", "Not yet, looking now."),
    (3, "alice", "Oh, the cabin by the lake? Lovely."),
    (4, "alice", "https://example.com/a/very/long/link/that/never/breaks/by/itself/unless/we/let/it/wrap/anywhere"),
    (30, "bob", "Yes! Supercalifragilisticexpialidocious-and-then-some-more-without-any-spaces-at-all"),
    (31, "bob", "IMAGE"),
    (33, "alice", "That view 😍"),
    (90, "alice", "Shall I book the train?"),
    (91, "bob", "Please do. The 9:40 from Central."),
    (92, "bob", "And bring the board games."),
    (93, "alice", "Of course."),
    (200, "bob", "IMAGE"),
    (201, "alice", "Ha, perfect."),
    (202, "alice", "Line one\nLine two\nLine three"),
    (300, "bob", "Talk later?"),
    (301, "alice", "Sure, talk later."),
    (302, "bob", "👍"),
    (303, "alice", "IMAGE"),
    (304, "bob", "مرحبا — and a right-to-left hello"),
    (360, "alice", "One more thing: the key is under the blue pot."),
    (361, "bob", "Got it."),
]


def afternoon_zone():
    """A time zone where it is early afternoon now, so that a seeded day of
    six hours ending a few minutes ago lies within one calendar day there,
    whenever the tests run."""
    hours = (14 - datetime.now(UTC).hour) % 24
    hours = hours - 24 if hours > 14 else hours
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"  # Etc/GMT-2 is two hours ahead of UTC


def person(app, label, name, zone="afternoon"):
    """A user named `name` (in time zone `zone`: by default one where it is
    afternoon now, None for none chosen yet), and the cookies of a session of theirs."""
    from app.data import users

    zone = afternoon_zone() if zone == "afternoon" else zone

    user, cookies = session_cookies(app, unique_email(label))
    with app.app_context():
        users.rename(user, name)
        users.set_time_zone(user["_id"], zone)
    user.update(name=name, time_zone=zone)
    return user, cookies


def open_as(new_page, live, cookies, **options):
    """A page in a browser context of its own, signed in with `cookies`."""
    page = new_page(**options)
    page.context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    return page


def picture(width, height, colour):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    buffer.seek(0)
    return FileStorage(buffer, filename="picture.png", content_type="image/png")


def seed(app, alice, bob, days=3, unread_for=None, unread=0, last_at=None, extra=0):
    """Days of messages between alice and bob, the last day ending at
    `last_at` (default: a few minutes ago), then `extra` short ones from bob.
    All seen, except the last `unread` messages to `unread_for`. Returns
    (chat id, messages)."""
    from app.chats import images, present
    from app.data import chats, messages

    people = {"alice": alice, "bob": bob}
    last_at = last_at or datetime.now(UTC) - timedelta(minutes=5 + extra)
    shapes = [(640, 480, (250, 120, 40)), (480, 800, (40, 120, 250)), (1600, 400, (40, 160, 90))]
    with app.test_request_context():
        chat = chats.open_between(alice["_id"], bob["_id"])
        docs, n = [], 0
        for day in range(days - 1, -1, -1):
            start = last_at - timedelta(days=day, minutes=DAY[-1][0])
            for minutes, who, text in DAY:
                n += 1
                sender = people[who]
                receiver = bob if who == "alice" else alice
                image = None
                if text == "IMAGE":
                    width, height, colour = shapes[n % len(shapes)]
                    image = images.store(chat["_id"], picture(width, height, colour), f"A {width} by {height} picture")
                    text = ""
                docs.append(
                    {
                        "chat_id": chat["_id"],
                        "seq": n,
                        "sender_id": sender["_id"],
                        "receiver_id": receiver["_id"],
                        "client_id": ObjectId().binary.hex().ljust(32, "0"),
                        "text": text,
                        "image": image,
                        "seen_at": start,
                        "created_at": start + timedelta(minutes=minutes),
                    }
                )
        for minute in range(extra):
            n += 1
            docs.append(
                {
                    "chat_id": chat["_id"],
                    "seq": n,
                    "sender_id": bob["_id"],
                    "receiver_id": alice["_id"],
                    "client_id": ObjectId().binary.hex().ljust(32, "0"),
                    "text": f"News {minute + 1}",
                    "image": None,
                    "seen_at": last_at,
                    "created_at": last_at + timedelta(seconds=minute + 1),
                }
            )
        if unread:
            for doc in [d for d in docs if d["receiver_id"] == unread_for["_id"]][-unread:]:
                doc["seen_at"] = None
        messages.save_all(docs)
        counts = Counter(str(d["receiver_id"]) for d in docs if d["seen_at"] is None)
        chats.record_messages({chat["_id"]: present.latest_message(docs[-1])}, {chat["_id"]: counts})
    return chat["_id"], docs
