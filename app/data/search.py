"""Messages found by their words, for each member of their chat.

Each message carries `search_keys`: for each member (sender and receiver)
and each word of its text (app/text.py's search_words), "<member id> <w>"
for the word and its beginnings ("cafe" gives ca, caf, cafe). So a
person's search for a word, or for the beginning of one, is one equality on
that multikey field: scoped to the chats they are in by the key itself,
with no `$in` over their chats, no regex and no `$text` (SecantusDB has no
text index, and falls back to a collection scan for `^prefix` regexes, for
`$in` on an index's leading key, and for two conditions on one multikey
field). A message whose text is cleared (deleted) has no keys, so it drops
out; one whose text changes gets its keys again from `keys()`.

The index is (search_keys, created_at): the query reads newest first in
time windows that grow from two minutes, so it reads about a page of keys
however many messages match (SecantusDB reads a whole range before any
limit); words after the first are checked on the text of what it found.
What it cannot bound: a burst of many matches after a long silence is read
whole by the window that reaches it.
"""

from datetime import UTC, datetime, timedelta

from pymongo import UpdateOne

from app import clock
from app.connections import db
from app.text import search_words

# Each key costs SecantusDB about 50 µs to insert (a typical message of 15
# words has about 40 beginnings, 80 keys with both members), so beginnings
# start at two letters and stop at ten: a longer last word is looked up by
# its first ten letters, and the rest checked on the text.
MIN_PREFIX, MAX_PREFIX = 2, 10
FIRST_WINDOW = timedelta(minutes=2)
CLOCK_SLACK = timedelta(minutes=1)  # a message stamped by a worker whose clock runs a little ahead
# A window that found nothing makes the next EMPTY_GROWTH times longer (a word in
# nothing reads nine empty ranges back to OLDEST, about 0.7 ms each); one that
# found some, as much longer as the rest needs at that rate, at most GROWTH times.
EMPTY_GROWTH, GROWTH = 8, 4
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)  # before any message: where the windows stop
FIELDS = {"search_keys": 0}  # what a found message carries back, all but its keys


def beginnings(word):
    """What a word is found by: itself, and its beginnings of MIN_PREFIX to MAX_PREFIX characters."""
    return {word} | {word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)}


def key_for(word, last):
    """The key a query's word is looked up by: the last word as a beginning (cut to MAX_PREFIX)."""
    return word[:MAX_PREFIX] if last and len(word) >= MIN_PREFIX else word


def keys(text, member_ids):
    """A message's `search_keys`, from its text and its chat's two members."""
    beginnings_ = set().union(*(beginnings(word) for word in search_words(text)))
    return sorted(f"{member} {beginning}" for member in {str(m) for m in member_ids} for beginning in beginnings_)


def newest(person_id, key, until=None, wanted=21, keep=lambda found: found):
    """Up to `wanted` messages with `key` ("<word or beginning>") in `person_id`'s
    chats, newest first, created before `until` (a (created_at, _id) pair, or None
    for now), of those `keep(messages)` keeps from each window's. Reads back
    in time in windows (see EMPTY_GROWTH), so a word in every message reads
    about a page, and a rare one a few empty ranges."""
    top = clock.now() + CLOCK_SLACK if until is None else until[0]
    found, span = [], FIRST_WINDOW
    first = True
    while len(found) < wanted and top > OLDEST:
        low = max(OLDEST, top - span)
        created = {"$gte": low, "$lte" if first and until else "$lt": top}
        batch = db().messages.find({"search_keys": f"{person_id} {key}", "created_at": created}, FIELDS)
        batch = sorted(batch, key=lambda message: (message["created_at"], message["_id"]), reverse=True)
        if first and until:  # the cursor's own instant: only those after it in the order
            batch = [m for m in batch if (m["created_at"], m["_id"]) < until]
        kept = keep(batch) if batch else []
        found += kept
        rest = wanted - len(found)
        top, span, first = low, span * (min(GROWTH, max(1, -(-rest // len(kept)))) if kept else EMPTY_GROWTH), False
    return found[:wanted]


def cursor(message_id):
    """(created_at, _id) of a message, where a page of results goes on from; None if there is none."""
    found = db().messages.find_one({"_id": message_id}, {"created_at": 1})
    return (found["created_at"], found["_id"]) if found else None


def backfill(batch=500, progress=lambda count: None):
    """Give every message that has no `search_keys` its keys (saved before
    search existed). Reads the collection once, in _id order (the only
    whole-collection read Parley makes: an operator's, once); returns how
    many it gave keys."""
    done, after = 0, None
    fields = {"text": 1, "sender_id": 1, "receiver_id": 1}
    while True:
        query = {"search_keys": {"$exists": False}}
        if after is not None:
            query["_id"] = {"$gt": after}
        found = list(db().messages.find(query, fields).sort("_id", 1).limit(batch))
        if not found:
            return done
        db().messages.bulk_write(
            [
                UpdateOne(
                    {"_id": m["_id"], "search_keys": {"$exists": False}},
                    {"$set": {"search_keys": keys(m.get("text"), (m["sender_id"], m["receiver_id"]))}},
                )
                for m in found
            ],
            ordered=False,
        )
        done, after = done + len(found), found[-1]["_id"]
        progress(done)
