"""Chat ids as they come from URLs, forms and pages."""

import pytest
from bson import ObjectId

from app.data.chats import parse_id


@pytest.mark.parametrize("text", [None, "", "nope", "0" * 23, "g" * 24, 42, b"twelve bytes"])
def test_a_missing_or_malformed_id_is_no_id(text):
    assert parse_id(text) is None  # ObjectId(None) would be a new id, and a lookup for nothing


def test_an_id_or_its_text_is_that_id():
    chat_id = ObjectId()
    assert parse_id(chat_id) == chat_id
    assert parse_id(str(chat_id)) == chat_id
