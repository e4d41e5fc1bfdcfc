"""Finding people, without exposing them. With DIRECTORY=private (the
default) a stranger is found only by their full email address, and names
and their prefixes find only the people you already chat with; with
DIRECTORY=open names find everyone, for a team that wants a directory.
Either way results show names, never emails, and leave out you and the
people who blocked you. (A stranger's 26 one-letter searches used to list
every user's name and email.)"""

import hashlib
import re

from bson import ObjectId
from flask import current_app

from app.auth import throttle
from app.chats import contacts
from app.connections import key
from app.data import chats, users
from config import rate

LIMIT = 20
FULL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Each tells whether an account exists (300 in 2.5 s confirmed 180). As you
# type an address, its last three or four prefixes are whole addresses too.
ADDRESS_LOOKUPS = rate("30 per hour")
Refused = throttle.Refused


def find(text, searcher_id):
    """The people `searcher_id` may find with `text`, by name. Refused when
    they have looked up too many whole addresses lately."""
    query = text.strip().lower()
    if not query:
        return []
    if FULL_ADDRESS.match(query):
        _count_address_lookup(query, searcher_id)
        found = [person for person in [users.by_email(query)] if person]
    elif current_app.config["DIRECTORY"] == "open":
        found = users.by_name(query, limit=LIMIT + 1)
    else:
        found = users.by_name(query, among=[ObjectId(contact) for contact in contacts.of(searcher_id)], limit=LIMIT)
    hidden = chats.blockers_of(searcher_id) | {searcher_id}
    people = [person for person in found if person["_id"] not in hidden][:LIMIT]
    return sorted(people, key=lambda person: (person["name"].lower(), str(person["_id"])))


def _count_address_lookup(address, searcher_id):
    """The same address looked up again within the hour counts once."""
    limit = throttle.Limit(
        key("{lookups:" + str(searcher_id) + "}"),
        *ADDRESS_LOOKUPS,
        "You have looked up many email addresses in a short time. Try again in {wait}.",
    )
    throttle.take((limit,), member=hashlib.sha256(address.encode()).hexdigest()[:16])
