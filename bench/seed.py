"""Benchmark data, made with the app's own data layer and token code."""

import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from flask_jwt_extended import create_access_token

from app.chats import present
from app.connections import db
from app.data import chats, directory, messages, users

TOKEN_LIFE = timedelta(hours=2)  # longer than any run; a browser's would be renewed by the server


def people(app, count, label):
    """`count` new users: [{_id, email, name}], with the time zone their first
    page sets (js/times.js): until it is known, the chat worker asks for it again
    every few seconds, which no real page keeps it doing."""
    with app.app_context():
        docs = [
            {**users.new_user(f"{label}{n}-{ObjectId()}@bench.example"), "time_zone": "Europe/London"}
            for n in range(count)
        ]
        for start in range(0, count, 1000):
            db().users.insert_many(docs[start : start + 1000])
    return [{"_id": doc["_id"], "email": doc["email"], "name": doc["name"]} for doc in docs]


def people_directory(app):
    """The people directory made afresh from every user, as `flask release`
    makes it (people() inserts users as a deploy from before it did)."""
    with app.app_context():
        db().directory.drop()
        directory.build()


def chats_between(app, pairs):
    """One chat per (a, b) pair, as "Chat with NAME" makes it, each made a
    second after the one before (made in one go, a hundred would share each
    millisecond, which a person's chats never do); returns their ids."""
    start = datetime.now(UTC) - timedelta(seconds=len(pairs))
    with app.app_context():
        docs = [chats.new_chat(a["_id"], b["_id"]) for a, b in pairs]
        for n, doc in enumerate(docs):
            doc["created_at"] = doc["updated_at"] = start + timedelta(seconds=n)
        for start in range(0, len(docs), 1000):
            db().chats.insert_many(docs[start : start + 1000])
    return [doc["_id"] for doc in docs]


def history(app, chat_id, first, second, count, seen=True):
    """`count` messages between two people, alternating, oldest first."""
    start = datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        docs = []
        for seq in range(1, count + 1):
            sender, receiver = (first, second) if seq % 2 else (second, first)
            docs.append(
                {
                    "chat_id": chat_id,
                    "seq": seq,
                    "sender_id": sender["_id"],
                    "receiver_id": receiver["_id"],
                    "client_id": ObjectId().binary.hex() + "00000000",
                    "text": f"History message number {seq}.",
                    "image": None,
                    "seen_at": start if seen else None,
                    "created_at": start + timedelta(seconds=seq),
                }
            )
        save_messages(docs)
        unread = Counter(str(doc["receiver_id"]) for doc in docs if doc["seen_at"] is None)
        chats.record_messages({chat_id: present.latest_message(docs[-1])}, {chat_id: unread})


SAVE_BATCH = 100  # messages: each adds about 40 search keys, and a long insert starves SecantusDB's heartbeats


def save_messages(docs):
    """Save messages as the chat worker does (search keys and all), a batch at
    a time; a batch cut off by a busy SecantusDB is sent again (a message saved
    twice is kept once: messages.save_all)."""
    from pymongo.errors import AutoReconnect

    for begin in range(0, len(docs), SAVE_BATCH):
        for attempt in range(5):
            try:
                messages.save_all(docs[begin : begin + SAVE_BATCH])
                break
            except AutoReconnect:
                if attempt == 4:
                    raise
                time.sleep(1)


def credentials(app, user):
    """What a signed-in browser holds: the JWT access cookie, and the CSRF token its pages carry."""
    from app.auth import session_store

    csrf = secrets.token_urlsafe(24)
    with app.app_context():
        # Access tokens need a live session (in a browser of its own).
        session_id = session_store.begin(user["_id"], secrets.token_urlsafe(18), secrets.token_urlsafe(12))
        token = create_access_token(
            identity=str(user["_id"]), expires_delta=TOKEN_LIFE, additional_claims={"csrf": csrf, "sid": session_id}
        )
    return {"cookie": f"{app.config['JWT_ACCESS_COOKIE_NAME']}={token}", "csrf": csrf}
