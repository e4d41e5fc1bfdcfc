"""Thin data-access modules, one per MongoDB collection.

Every query is shaped to read a narrow index range by equality on an index's
leading fields (plus at most one range), and no write uses findAndModify: on
SecantusDB, the MongoDB we develop and test on, findAndModify scans the whole
collection whatever its filter (35 ms at 3,000 documents), while update_one
and find_one by an indexed field take about a millisecond. SecantusDB also
reads a query's whole index range before it applies a limit, so a range is
bounded by its keys, never by `.limit()` alone.
"""

import time

from pymongo.errors import DuplicateKeyError

# SecantusDB checks each document against every id of an `_id $in`, so one
# query costs ids²: 100 ids took 11.7 ms, 1,000 ids 780 ms. In chunks of 20
# the cost is linear (1,000 ids about 0.12 ms each, on a busy machine;
# chunks of 5 and 50 were both slower).
IDS_PER_QUERY = 20


def by_ids(collection, ids, projection=None):
    """The documents with these ids (those that exist), IDS_PER_QUERY ids a query."""
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield from collection.find({"_id": {"$in": ids[start : start + IDS_PER_QUERY]}}, projection)


def upsert(collection, query, new_document, attempts=5):
    """The document matching `query` (on a unique index), inserted if there is
    none, and whether this call inserted it. Two requests inserting at once
    both end up with the one document: the loser of the race sees a
    duplicate key and reads the winner's."""
    created = False
    for attempt in range(attempts):
        try:
            created = collection.update_one(query, {"$setOnInsert": new_document}, upsert=True).upserted_id is not None
        except DuplicateKeyError:
            pass
        found = collection.find_one(query)
        if found is not None:
            return found, created
        time.sleep(0.005 * 2**attempt)  # until the winner's insert is visible
    raise DuplicateKeyError(f"could not upsert {query}")
