"""Thin data-access modules, one per MongoDB collection."""

import time

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError


def upsert(collection, query, new_document, attempts=5):
    """The document matching `query` (on a unique index), inserted if there is
    none. Two requests inserting at once both end up with the one document:
    the loser of the race sees a duplicate key (or, on some servers, no
    document for a moment), and tries again."""
    for attempt in range(attempts):
        try:
            found = collection.find_one_and_update(
                query, {"$setOnInsert": new_document}, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            found = None
        if found is not None:
            return found
        time.sleep(0.005 * 2**attempt)  # until the winner's insert is committed and visible
    raise DuplicateKeyError(f"could not upsert {query}")
