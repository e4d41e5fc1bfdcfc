"""sent_mail: the mail worker's record of the keyed mail it sends (_id the
job's key, state "sending" then "sent", at), so that a job queued twice is
sent once. Kept a week (a TTL index)."""

from pymongo.errors import DuplicateKeyError

from app import clock
from app.connections import db


def begin(key):
    """Note that mail `key` is being sent. False if it was sent already; a
    send that never said how it ended ("sending") is begun again: whether
    the server took it cannot be known, and a second email is better than none."""
    try:
        db().sent_mail.insert_one({"_id": key, "state": "sending", "at": clock.now()})
        return True
    except DuplicateKeyError:
        found = db().sent_mail.find_one({"_id": key}, {"state": 1})
        return found is None or found["state"] != "sent"


def sent(key):
    db().sent_mail.update_one({"_id": key}, {"$set": {"state": "sent", "at": clock.now()}})
