"""Thin data-access modules, one per MongoDB collection.

Every query is shaped to read a narrow index range by equality on an index's
leading fields (plus at most one range), and no write uses findAndModify: on
SecantusDB, the MongoDB we develop and test on, findAndModify scans the whole
collection whatever its filter (35 ms at 3,000 documents), while update_one
and find_one by an indexed field take about a millisecond.
"""

import time

from pymongo.errors import DuplicateKeyError


def upsert(collection, query, new_document, attempts=5):
    """The document matching `query` (on a unique index), inserted if there is
    none. Two requests inserting at once both end up with the one document:
    the loser of the race sees a duplicate key and reads the winner's."""
    for attempt in range(attempts):
        try:
            collection.update_one(query, {"$setOnInsert": new_document}, upsert=True)
        except DuplicateKeyError:
            pass
        found = collection.find_one(query)
        if found is not None:
            return found
        time.sleep(0.005 * 2**attempt)  # until the winner's insert is visible
    raise DuplicateKeyError(f"could not upsert {query}")
