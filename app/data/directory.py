"""directory: for each prefix (up to PREFIX_MAX letters) of the words of
people's names, the first KEPT people by name whose names have it, and how
many have it. {_id: prefix, count, people: [{key, _id, name}]}, `key` being
the lower-cased name and the id, which orders them.

Searching by a prefix reads one document, however many people match: the
range of the users' `terms` index took 4.4 s at 100,000 matching names on
SecantusDB, which reads a whole range before applying the limit. Longer
prefixes are rare enough to share that their range stays small.

A person is added once, when their account is made, and removed when they
rename (then added again) or go; a list that removals leave shorter than a
search needs, while more people have the prefix, is read again from the
users (rare: a list keeps twice what a search shows)."""

from pymongo import UpdateOne

from app.connections import db

PREFIX_MAX = 10
KEPT = 40
# The highest code point: `prefix + TOP` sorts after every word starting with prefix.
TOP = "\U0010ffff"


def search_terms(name):
    """Lower-cased words that people search a name by: never the email, which strangers must not guess at."""
    return sorted(set(name.lower().split()))


def name_matches(name, prefix):
    return any(word.startswith(prefix) for word in name.lower().split())


def prefixes(name):
    """Every prefix of the name's words that the directory lists, each once."""
    return {term[:length] for term in search_terms(name) for length in range(1, min(len(term), PREFIX_MAX) + 1)}


def entry(user_id, name):
    return {"key": f"{name.lower()}\x00{user_id}", "_id": user_id, "name": name}


def add(people):
    """List people ({_id, name} each): one round trip, however many prefixes."""
    operations = []
    for person in people:
        listed = {"$each": [entry(person["_id"], person["name"])], "$sort": {"key": 1}, "$slice": KEPT}
        update = {"$inc": {"count": 1}, "$push": {"people": listed}}
        operations += [UpdateOne({"_id": prefix}, update, upsert=True) for prefix in prefixes(person["name"])]
    if operations:
        db().directory.bulk_write(operations, ordered=False)


def remove(user_id, name):
    """Take the person (named `name` until now) off the lists of its prefixes."""
    operations = [
        UpdateOne({"_id": prefix}, {"$inc": {"count": -1}, "$pull": {"people": {"_id": user_id}}})
        for prefix in prefixes(name)
    ]
    if operations:
        db().directory.bulk_write(operations, ordered=False)


def first(prefix, limit):
    """Up to `limit` people ({_id, name}) first by name with a word of their
    name starting with `prefix` (lower-cased), or None for a prefix longer
    than the directory lists."""
    if len(prefix) > PREFIX_MAX:
        return None
    found = db().directory.find_one({"_id": prefix}) or {"count": 0, "people": []}
    listed = found["people"]
    if len(listed) < min(limit, found["count"]):
        listed = _refill(prefix, listed)
    return [{"_id": person["_id"], "name": person["name"]} for person in listed[:limit]]


def _refill(prefix, listed):
    """Read the prefix's first KEPT people from the users again; kept only if
    the list did not change meanwhile (a person added then is not dropped)."""
    found = db().users.find({"terms": {"$gte": prefix, "$lt": prefix + TOP}}, {"name": 1})
    people = [entry(user["_id"], user["name"]) for user in found if name_matches(user["name"], prefix)]
    kept = {"people": _first(people), "count": len(people)}
    db().directory.update_one({"_id": prefix, "people": listed}, {"$set": kept})
    return kept["people"]


def build():
    """List everyone, if the directory is empty (a deploy from before it
    existed): `flask release` calls it, and returns how many it listed. Made
    in memory and inserted whole: a million updates one by one take minutes."""
    if db().directory.estimated_document_count():
        return 0
    lists, counts, listed = {}, {}, 0
    for user in db().users.find({}, {"name": 1}):
        listed += 1
        for prefix in prefixes(user["name"]):
            counts[prefix] = counts.get(prefix, 0) + 1
            people = lists.setdefault(prefix, [])
            people.append(entry(user["_id"], user["name"]))
            if len(people) > 2 * KEPT:  # only the first KEPT stay: memory stays bounded
                lists[prefix] = _first(people)
    documents = [{"_id": prefix, "count": counts[prefix], "people": _first(people)} for prefix, people in lists.items()]
    for start in range(0, len(documents), 1000):
        db().directory.insert_many(documents[start : start + 1000], ordered=False)
    return listed


def _first(people):
    return sorted(people, key=lambda person: person["key"])[:KEPT]
