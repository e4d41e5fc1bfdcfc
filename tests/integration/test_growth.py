"""Paths that must cost the same however much data there is: the Chats
navigation reads a bounded range of a person's chats, a reconnecting page's
presence covers only the people it shows, and lookups by many ids come back
whole (in chunks)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.chats import live, present
from app.data import chats, users
from app.realtime import presence
from bench import seed
from tests.support.people import unique_email

# After the chats are made (activity only moves forward), to the millisecond MongoDB keeps.
START = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


def latest_at(minute):
    """A chat's latest message, `minute` after START."""
    summary = {"seq": minute, "client_id": f"c{minute}", "sender_id": None, "text": "", "has_image": False}
    return {**summary, "at": START + timedelta(minutes=minute)}


def active_at(chat_id, minute):
    """The chat's latest activity moves to `minute` after START."""
    chats.record_messages({chat_id: latest_at(minute)}, {})


@pytest.fixture
def busy(ns_app):
    """A person with 130 chats, chat n last active at minute n: busy.user_id, busy.chats, busy.others.
    Made in bulk as the benchmark makes them, and left out of the people
    directory, which these tests do not search (one by one, listed, took 2.4 s)."""
    with ns_app.app_context():
        user = users.find_or_create(unique_email("busy"))
        others = seed.people(ns_app, 130, "friend")
        chat_ids = seed.chats_between(ns_app, [(user, other) for other in others])
        chats.record_messages({chat_id: latest_at(minute) for minute, chat_id in enumerate(chat_ids, start=1)}, {})
    return type("Busy", (), {"user_id": user["_id"], "chats": chat_ids, "others": [other["_id"] for other in others]})


def shown(user_id):
    return [chat["_id"] for chat in present.shown_chats(users.get(user_id))]


def test_the_chats_navigation_shows_the_100_most_recent_in_order_from_a_bounded_read(ns_app, busy):
    with ns_app.app_context():
        assert shown(busy.user_id) == busy.chats[::-1][:100]
        since = users.get(busy.user_id)["chats_shown_since"]
        assert since == START + timedelta(minutes=31)  # the hundredth's activity
        assert len(chats.for_member(busy.user_id, since)) == 100  # what later reads read, not all 130

        active_at(busy.chats[0], 500)  # the oldest chat gets a message
        assert shown(busy.user_id) == [busy.chats[0], *busy.chats[::-1][:99]]


def test_the_chats_navigation_stays_right_when_blocks_empty_its_range(ns_app, busy):
    with ns_app.app_context():
        shown(busy.user_id)  # the range is now the 100 newest
        for chat_id in busy.chats[-10:]:
            chats.block(chat_id, busy.user_id)
        assert shown(busy.user_id) == busy.chats[::-1][10:110]
        chats.unblock(busy.chats[-1], busy.user_id)
        assert shown(busy.user_id) == [busy.chats[-1], *busy.chats[::-1][10:109]]
        for chat_id in busy.chats[:40]:  # fewer than 100 left: all are read, and the mark goes
            chats.block(chat_id, busy.user_id)
        assert shown(busy.user_id) == [busy.chats[-1], *busy.chats[119:39:-1]]
        assert users.get(busy.user_id)["chats_shown_since"] is None


def test_a_reconnecting_page_hears_of_exactly_the_people_it_shows(ns_app, busy):
    blocked_other, open_chat_other = busy.others[-1], busy.others[0]  # newest: in Chats; oldest: not
    with ns_app.test_request_context():
        chats.block(busy.chats[-1], blocked_other)
        presence.heartbeat("web-test")
        presence.connect("web-test", busy.others[-2], "page-1")
        snapshot = live.presence_snapshot(busy.user_id, busy.chats[0])
    told = set(ObjectId(found) for found in re.findall(r'id="presence-status-([0-9a-f]{24})"', snapshot))
    in_chats = set(busy.others[::-1][1:100])  # the newest chat's other member blocked: no presence either way
    assert told == in_chats | {open_chat_other}
    assert f'id="presence-entry-{busy.others[-2]}" class="chat-presence online"' in snapshot


def test_names_and_chats_by_id_come_back_whole_past_one_querys_worth_of_ids(ns_app, busy):
    missing = ObjectId()
    with ns_app.app_context():
        names = users.names([*busy.others, missing])
        assert len(names) == 131 and names[missing] == users.DELETED_NAME
        assert all(name.startswith("friend") for other, name in names.items() if other != missing)
        assert set(chats.get_many(busy.chats)) == set(busy.chats)


def test_a_search_among_contacts_reads_them_and_gives_the_first_by_name(ns_app, busy):
    with ns_app.app_context():
        for n, other in enumerate(busy.others[:25]):  # made first, named last
            users.rename(users.get(other), f"Zed {24 - n:02d}")
        stranger = users.find_or_create(unique_email("stranger"))
        users.rename(stranger, "Zed Apart")
        found = users.by_name("zed", among=chats.contacts(busy.user_id))
    assert [person["name"] for person in found] == [f"Zed {n:02d}" for n in range(20)]
