"""users: email (unique, lower-cased), name, search terms (the words of the
name), created_at, last_seen_at, active_at (their latest page load or send,
at most a minute old), time_zone (an IANA name, None until known),
name_chosen (False until the person has chosen their name, or skipped
choosing it, on first sign-in) and chats_shown_since (the latest activity of
the last chat their Chats navigation showed, when it was last measured:
see app/chats/present.py); notify (how Parley reaches them when they are
away: `email`, a timing of app/notifications/settings.py, `text`, False
when emails leave message text out, `browsers`, how many browsers take
Web Push; none of them set until chosen) and missed_mail (the missed-message
email under way, `pending`, and when the last one went, `sent_at`: see
app/notifications/mail.py)."""

from cachetools import TLRUCache

from app import clock
from app.connections import db
from app.data import by_ids, directory, upsert
from app.data.directory import TOP, name_matches, search_terms

MAX_NAME = 50
DELETED_NAME = "Deleted account"  # what others see of someone whose account is gone


def get(user_id):
    return db().users.find_one({"_id": user_id})


def as_seen_by_others(user_id):
    """The user, or for an account that was deleted a stand-in named DELETED_NAME."""
    return get(user_id) or _stand_in(user_id)


def with_other(user_id, other_id):
    """(the user, the other as others see them): a chat page's two people, in one read."""
    found = {user["_id"]: user for user in by_ids(db().users, [user_id, other_id])}
    return found.get(user_id), found.get(other_id) or _stand_in(other_id)


def _stand_in(user_id):
    return {"_id": user_id, "name": DELETED_NAME, "last_seen_at": None}


def delete(user):
    db().users.delete_one({"_id": user["_id"]})
    directory.remove(user["_id"], user["name"])
    recent_people.forget(user["_id"])


def new_user(email):
    """A user document for `email`, named after its local part (editable later)."""
    name = email.split("@")[0][:MAX_NAME]
    return {
        "email": email,
        "name": name,
        "terms": search_terms(name),
        "created_at": clock.now(),
        "time_zone": None,
        "name_chosen": False,
    }


def find_or_create(email):
    """The user with this (lower-cased) email; created on first sign-in."""
    user, created = upsert(db().users, {"email": email}, {k: v for k, v in new_user(email).items() if k != "email"})
    if created:
        directory.add([user])
    return user


def rename(user, name):
    """`user` holds their _id and their name until now."""
    changes = {"name": name, "terms": search_terms(name), "name_chosen": True}
    db().users.update_one({"_id": user["_id"]}, {"$set": changes})
    recent_people.forget(user["_id"])
    if name != user["name"]:
        directory.remove(user["_id"], user["name"])
        directory.add([{"_id": user["_id"], "name": name}])


def keep_name(user_id):
    """The person skipped choosing a name: keep the one made from their email, and stop asking."""
    db().users.update_one({"_id": user_id}, {"$set": {"name_chosen": True}})


def set_time_zone(user_id, name):
    db().users.update_one({"_id": user_id}, {"$set": {"time_zone": name}})


def names(user_ids):
    """{user_id: name} for the given ids; DELETED_NAME for an account that is gone."""
    user_ids = list(user_ids)
    found = {user["_id"]: user["name"] for user in by_ids(db().users, user_ids, {"name": 1})}
    return {user_id: found.get(user_id, DELETED_NAME) for user_id in user_ids}


def people(user_ids):
    """{user_id: {_id, name, time_zone, notify}} for the given ids: what pushes
    to them need, and how to reach them when they are away."""
    return {user["_id"]: user for user in by_ids(db().users, user_ids, {"name": 1, "time_zone": 1, "notify": 1})}


class RecentPeople:
    """People's names and time zones, kept for a minute: a rename (or a new
    zone, or a deleted account) shows in pushes and in others' Chats
    navigation within that time, and at once in the process that made it."""

    def __init__(self, seconds=60):
        self.seconds = seconds
        # Bounded: the people least lately asked for go first.
        self.people = TLRUCache(maxsize=100_000, ttu=self.kept_until)

    def kept_until(self, user_id, person, now):
        # A zone not yet known is asked again soon: the page sets it when it first runs.
        return now + (self.seconds if person.get("time_zone") else 5)

    def forget(self, user_id):
        self.people.pop(user_id, None)

    def __call__(self, user_ids):
        user_ids = list(user_ids)
        found = {user_id: self.people.get(user_id) for user_id in user_ids}
        missing = [user_id for user_id, person in found.items() if person is None]
        if missing:
            for user_id, person in people(missing).items():
                self.people[user_id] = found[user_id] = person
        return {user_id: found[user_id] for user_id in user_ids if found[user_id] is not None}


recent_people = RecentPeople()


def recent_names(user_ids):
    """names(), from recent_people: a rename shows within its minute."""
    found = recent_people(user_ids)
    return {user_id: found[user_id]["name"] if user_id in found else DELETED_NAME for user_id in user_ids}


def profiles(user_ids):
    """{user_id: {_id, name, created_at}}: what the API shows of people (never their email)."""
    return {user["_id"]: user for user in by_ids(db().users, user_ids, {"name": 1, "created_at": 1})}


def newest(limit):
    """The `limit` people who joined last (name and when): the API's list of everyone, in an open directory."""
    return list(db().users.find({}, {"name": 1, "created_at": 1}).sort("_id", -1).limit(limit))


def by_email(email):
    return db().users.find_one({"email": email}, {"name": 1})


def by_name(prefix, among=None, limit=20):
    """The first `limit` people (name only) by name with a word of their name
    starting with `prefix`: from the directory (app/data/directory.py), or
    among the ids `among` if given. Among ids, those people are read, not the
    prefix's range: that range grows with everyone, and on SecantusDB each of
    its documents was checked against every id. Prefixes longer than the
    directory lists read the users' terms range, checking names again (users
    saved before names alone were search terms have their email among them)."""
    if among is None:
        listed = directory.first(prefix, limit)
        if listed is not None:
            return listed
        found = db().users.find({"terms": {"$gte": prefix, "$lt": prefix + TOP}}, {"name": 1}).limit(limit * 2)
        return [user for user in found if name_matches(user["name"], prefix)][:limit]
    found = [user for user in by_ids(db().users, among, {"name": 1}) if name_matches(user["name"], prefix)]
    return sorted(found, key=lambda user: (user["name"].lower(), str(user["_id"])))[:limit]


def set_notify(user_id, **settings):
    """Change some of the person's notify settings (email, text, browsers)."""
    db().users.update_one({"_id": user_id}, {"$set": {f"notify.{name}": value for name, value in settings.items()}})
    recent_people.forget(user_id)


def to_reach(user_id):
    """What reaching the person when they are away needs: their address,
    name, zone, notify settings and the missed-message email under way."""
    fields = ("email", "name", "time_zone", "notify", "missed_mail")
    return db().users.find_one({"_id": user_id}, dict.fromkeys(fields, 1))


def begin_missed_mail(user_id, pending):
    """Keep `pending` as the person's missed-message email under way, unless
    one already is (then False: another check got there first)."""
    changed = db().users.update_one(
        {"_id": user_id, "missed_mail.pending": None}, {"$set": {"missed_mail.pending": pending}}
    )
    return changed.modified_count == 1


def end_missed_mail(user_id, key, at):
    """The email `key` is on its way: no longer under way, and the latest sent."""
    db().users.update_one(
        {"_id": user_id, "missed_mail.pending.key": key},
        {"$unset": {"missed_mail.pending": ""}, "$set": {"missed_mail.sent_at": at}},
    )


def set_chats_shown_since(user_id, at):
    db().users.update_one({"_id": user_id}, {"$set": {"chats_shown_since": at}})


def set_last_seen(user_id):
    db().users.update_one({"_id": user_id}, {"$set": {"last_seen_at": clock.now()}})


def set_active(user_id):
    """They loaded a page or sent something: with or without a live connection, they are about."""
    db().users.update_one({"_id": user_id}, {"$set": {"active_at": clock.now()}})


def presence_details(user_ids):
    """{user_id: {_id, last_seen_at, active_at}} for showing when people were last about."""
    return {user["_id"]: user for user in by_ids(db().users, user_ids, {"last_seen_at": 1, "active_at": 1})}
