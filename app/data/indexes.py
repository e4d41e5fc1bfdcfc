"""Every query Parley makes has an index; `flask create-indexes` (the release
process) creates them. Creating an index that exists is a no-op."""

from pymongo import ASCENDING, DESCENDING, IndexModel

from app.connections import db

INDEXES = {
    "users": [
        IndexModel([("email", ASCENDING)], unique=True),
        IndexModel([("terms", ASCENDING)]),  # people search by prefix
    ],
    "chats": [
        IndexModel([("pair", ASCENDING)], unique=True),  # one chat per pair
        IndexModel([("members", ASCENDING), ("updated_at", DESCENDING)]),  # the Chats list
        IndexModel([("unmailed", ASCENDING)]),  # missed-message checks, found again after Redis lost them
    ],
    "push_subscriptions": [
        IndexModel([("endpoint", ASCENDING)], unique=True),  # a browser's subscription is one person's
        IndexModel([("user_id", ASCENDING)]),
    ],
    # The mail worker's record of keyed mail it sent, so a job queued twice is sent once; kept a week.
    "sent_mail": [IndexModel([("at", ASCENDING)], expireAfterSeconds=7 * 86400)],
    "sessions": [
        IndexModel([("user_id", ASCENDING), ("ended_at", ASCENDING)]),  # sign out of all devices
    ],
    "messages": [
        IndexModel([("chat_id", ASCENDING), ("seq", ASCENDING)], unique=True),  # history, by page
        IndexModel([("sender_id", ASCENDING), ("client_id", ASCENDING)], unique=True),  # no doubles
        IndexModel([("receiver_id", ASCENDING), ("seen_at", ASCENDING), ("chat_id", ASCENDING)]),  # unread
        IndexModel([("search_keys", ASCENDING), ("created_at", DESCENDING)]),  # search, see data/search.py
        IndexModel([("reply_to.client_id", ASCENDING), ("chat_id", ASCENDING)], sparse=True),  # quotes of it
    ],
}


def create_all():
    for collection, models in INDEXES.items():
        db()[collection].create_indexes(models)
