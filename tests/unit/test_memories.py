"""The in-process memories (caches): each is bounded, and when full it lets
go of the entry used least recently, never of all at once (they used to be
cleared whole at their size, and every entry had to be read again at once)."""

from contextlib import nullcontext
from datetime import timedelta

import pytest

from app import clock
from app.auth import session_store
from app.chats import live
from app.chats.sending import delivery
from app.data import chats, users

MEMORIES = {
    "sessions seen alive": lambda: session_store._seen_alive,
    "each chat's latest saved message": lambda: delivery._latest_saved,
    "fallback pages' signals": lambda: live._fallback_pages,
    "people noted about": lambda: live._noted,
    "chat members": lambda: chats._members,
    "recent people": lambda: users.recent_people.people,
}


@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_a_full_memory_forgets_the_least_recently_used_entry(name):
    memory = MEMORIES[name]()
    memory.clear()
    person = {"name": "Ann", "time_zone": "UTC"}  # a value every memory can hold
    try:
        with getattr(memory, "timer", nullcontext()):  # time stands still meanwhile: nothing expires
            for n in range(memory.maxsize):
                memory[n] = person
            assert memory.get(0) is person  # the oldest, used just now
            memory[memory.maxsize] = person
            assert len(memory) == memory.maxsize
            assert 0 in memory and 1 not in memory and memory.maxsize in memory
    finally:
        memory.clear()


def test_the_time_limited_memories_keep_their_times():
    assert session_store._seen_alive.ttl == session_store.ALIVE_FOR
    assert users.recent_people.kept_until(1, {"time_zone": "UTC"}, 100) == 160
    assert users.recent_people.kept_until(1, {"time_zone": None}, 100) == 105  # the page tells it soon
    live._noted.clear()
    try:
        live._noted["someone"] = True
        clock.set_to(offset=timedelta(seconds=live.ACTIVE_EVERY - 1))
        assert live._noted.get("someone")
        clock.set_to(offset=timedelta(seconds=live.ACTIVE_EVERY + 1))
        assert live._noted.get("someone") is None
    finally:
        clock.set_to()
        live._noted.clear()
