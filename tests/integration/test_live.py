"""What chats do with live pages (app/chats/live.py): typing, viewing and
presence, through the hooks realtime calls, with pushes captured in this
process and the clock set. The transport itself is tested against gunicorn
in test_realtime.py."""

import re
from zoneinfo import ZoneInfo

import pytest

from app.chats import contacts, live, viewing
from app.connections import redis_client
from app.data import chats, messages, users
from app.realtime import hooks, presence
from app.realtime.hub import Connection
from tests.support.people import person, say
from tests.support.queues import run_chat_worker


@pytest.fixture
def opened_page(ns_app):
    """opened_page(client, **hello): a page of `client`'s person, opened as a socket would open it."""
    opened = []

    def open_page(client, **hello):
        connection = Connection(client.user["_id"], page_id=f"page-{len(opened)}")
        connection.waiting.clear()  # no replay: the transport's business
        with ns_app.test_request_context():
            hooks.of(ns_app).opened(connection, {"fresh": True, **hello})
        opened.append(connection)
        return connection

    yield open_page
    with ns_app.test_request_context():
        for connection in opened:
            hooks.of(ns_app).closed(connection)


def on_a_page(*people):
    """Each has a page open: a signed-in page was rendered for them, so a push may reach them (presence.expect)."""
    for someone in people:
        someone.get("/")


def told(connection):
    """What the page was told directly (not through the person's channel)."""
    return "".join(item.html for item in connection.waiting if hasattr(item, "html"))


def test_a_page_of_a_chat_knows_its_chat_only_if_a_member(pair, ns_app, opened_page):
    assert opened_page(pair.alice, chat=str(pair.id)).state == {"chat_id": pair.id}
    eve = person(ns_app, "eve")
    assert opened_page(eve, chat=str(pair.id)).state == {}
    assert opened_page(pair.alice, chat="not-an-id").state == {}


def test_typing_goes_to_the_other_member_of_the_moment_and_stops_when_the_typist_leaves(
    pair, ns_app, opened_page, pushes
):
    bob_page = opened_page(pair.bob, chat=str(pair.id))
    with ns_app.test_request_context():
        hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": True})
    to_alice = pushes.to(pair.alice.user["_id"])
    assert f"<bdi>{pair.bob.user['name']}</bdi> is typing…" in to_alice
    assert f'hx-target="#typing-entry-{pair.id}" hx-swap="innerHTML">typing…<' in to_alice  # in Chats too
    assert pushes.kept(pair.alice.user["_id"]) == ""  # of the moment: never replayed
    assert not pushes.to(pair.bob.user["_id"])
    pushes.clear()
    with ns_app.test_request_context():
        hooks.of(ns_app).closed(bob_page)
    assert f'hx-target="#typing-{pair.id}" hx-swap="innerHTML"></hx-partial>' in pushes.to(pair.alice.user["_id"])


def test_a_visible_page_sees_what_was_waiting_and_stops_viewing_when_it_goes(pair, ns_app, opened_page, pushes):
    say(pair.alice, "Waiting for Bob")
    run_chat_worker(ns_app)
    pushes.clear()
    bob_page = opened_page(pair.bob, chat=str(pair.id), visible=True)
    assert "status-seen" in pushes.to(pair.alice.user["_id"])
    with ns_app.app_context():
        assert chats.unread(chats.get(pair.id), pair.bob.user["_id"]) == 0
        assert viewing.who_is_viewing({(pair.id, pair.bob.user["_id"])})
    with ns_app.test_request_context():
        hooks.of(ns_app).message(bob_page, {"type": "viewing", "visible": False})
    with ns_app.app_context():
        assert not viewing.who_is_viewing({(pair.id, pair.bob.user["_id"])})


def test_a_page_that_stops_renewing_stops_counting_as_viewing(pair, ns_app, clock):
    with ns_app.app_context():
        viewing.start(pair.id, pair.bob.user["_id"], "bob-page")
        clock.advance(seconds=viewing.VIEWING_TTL - 1)
        assert viewing.who_is_viewing({(pair.id, pair.bob.user["_id"])})
        clock.advance(seconds=2)
        assert not viewing.who_is_viewing({(pair.id, pair.bob.user["_id"])})


def test_presence_goes_to_contacts_only_and_offline_says_when(pair, ns_app, pushes, clock):
    stranger = person(ns_app, "stranger")
    on_a_page(pair.alice, pair.bob, stranger)
    bob_id = pair.bob.user["_id"]
    with ns_app.test_request_context():
        hooks.of(ns_app).online(bob_id)
    assert f'id="presence-status-{bob_id}"' in pushes.to(pair.alice.user["_id"])
    assert ">Online<" in pushes.to(pair.alice.user["_id"])
    assert not pushes.to(stranger.user["_id"]) and not pushes.to(bob_id)
    pushes.clear()
    clock.advance(seconds=5)  # after Bob's last page load: he was last seen when his last page closed
    with ns_app.test_request_context():
        hooks.of(ns_app).offline(bob_id)
        assert users.get(bob_id)["last_seen_at"] == clock.at
    assert f"Last seen today at {clock.at:%H:%M} UTC<" in pushes.kept(pair.alice.user["_id"])  # Alice's zone: unknown


def test_presence_reaches_the_contacts_a_push_can_reach_and_is_kept_for_pages_about_to_attach(pair, ns_app, pushes):
    """Pushing to every contact cost 118 ms a connect at 1,000 contacts: only
    those online or with a page about to connect are told, and the push is
    kept only for the latter; a page that connects later asks
    (presence_snapshot)."""
    bob_id = pair.bob.user["_id"]
    carol, dave = person(ns_app, "carol"), person(ns_app, "dave")
    for other in (carol, dave):
        other.post("/chats", data={"user_id": str(bob_id), "csrf_token": other.token})
    on_a_page(carol, dave)
    with ns_app.test_request_context():
        redis_client().delete(presence.expected_key(pair.alice.user["_id"]), presence.expected_key(dave.user["_id"]))
        presence.heartbeat("web-test")
        presence.connect("web-test", pair.alice.user["_id"], presence.connection_id())  # online
        # Carol's pages were just rendered: expected. Dave's not: neither.
        redis_client().delete(contacts.set_key(bob_id))  # not known: read from MongoDB, kept with the pushes
        hooks.of(ns_app).online(bob_id)
        kept = {contacts.EMPTY, *(str(other.user["_id"]) for other in (pair.alice, carol, dave))}
        assert redis_client().smembers(contacts.set_key(bob_id)) == kept
    assert f'id="presence-status-{bob_id}"' in pushes.to(pair.alice.user["_id"])
    assert not pushes.kept(pair.alice.user["_id"])  # attached: were her page to reconnect, it would ask
    assert f'id="presence-status-{bob_id}"' in pushes.kept(carol.user["_id"])  # kept for her page to replay
    assert not pushes.to(dave.user["_id"])


def test_contacts_are_read_afresh_after_a_new_chat_or_a_block(pair, ns_app):
    bob_id = pair.bob.user["_id"]
    carol = person(ns_app, "carol")
    with ns_app.test_request_context():
        assert contacts.of(bob_id) == [str(pair.alice.user["_id"])]
    carol.post("/chats", data={"user_id": str(bob_id), "csrf_token": carol.token})
    with ns_app.test_request_context():
        assert set(contacts.of(bob_id)) == {str(pair.alice.user["_id"]), str(carol.user["_id"])}
    pair.bob.post(f"{pair.url}/block", data={"csrf_token": pair.bob.token})
    with ns_app.test_request_context():
        assert contacts.of(bob_id) == [str(carol.user["_id"])]
        assert contacts.of(pair.alice.user["_id"]) == []  # neither hears of the other


def test_contacts_read_before_a_change_are_not_kept_after_it(pair, ns_app):
    """A refill that read MongoDB before a block must not write the blocked person back."""
    bob_id = pair.bob.user["_id"]
    with ns_app.test_request_context():
        version = redis_client().get(contacts.version_key(bob_id))
        stale = chats.contacts(bob_id)
        chats.block(pair.id, bob_id)
        contacts.changed(bob_id, pair.alice.user["_id"])
        redis_client().register_script(contacts.FILL_SCRIPT)(
            keys=[contacts.set_key(bob_id), contacts.version_key(bob_id)],
            args=[version or "", contacts.KEEP, contacts.EMPTY, *map(str, stale)],
        )
        assert contacts.of(bob_id) == []


def test_a_fresh_page_is_told_nothing_a_reconnecting_one_who_is_online(pair, ns_app, opened_page):
    with ns_app.test_request_context():
        hooks.of(ns_app).online(pair.bob.user["_id"])
    assert told(opened_page(pair.alice)) == ""
    snapshot = told(opened_page(pair.alice, fresh=False))
    assert f'id="presence-status-{pair.bob.user["_id"]}"' in snapshot


def test_typing_and_viewing_over_posts_for_the_fallback(pair, ns_app, pushes):
    bob = pair.bob
    headers = {"X-CSRFToken": bob.token}
    assert bob.post(f"{pair.url}/typing", data={"typing": "1"}, headers=headers).status_code == 204
    assert "is typing…" in pushes.to(pair.alice.user["_id"])
    say(pair.alice, "Seen over a post")
    run_chat_worker(ns_app)
    pushes.clear()
    assert bob.post(f"{pair.url}/viewing", data={"visible": "1", "page": "p"}, headers=headers).status_code == 204
    assert "status-seen" in pushes.to(pair.alice.user["_id"])
    eve = person(ns_app, "eve")
    assert eve.post(f"{pair.url}/typing", data={"typing": "1"}, headers={"X-CSRFToken": eve.token}).status_code == 404


def test_typing_in_a_chat_that_is_not_yours_goes_nowhere(pair, ns_app, pushes):
    eve = person(ns_app, "eve")
    with ns_app.test_request_context():
        live.typing(pair.id, eve.user["_id"], True)
    assert not pushes


def test_someone_without_javascript_shows_as_active_from_page_loads_and_sends(pair, ns_app, pushes, clock):
    """No socket, so never "Online"; but their page loads and sends say they are about."""
    from app.connections import key, redis_client

    bob_id = pair.bob.user["_id"]
    on_a_page(pair.alice, pair.bob)
    clock.advance(minutes=2)  # those page loads count too: a while on,
    with ns_app.app_context():
        redis_client().delete(key("active", bob_id))  # their key has gone
    pushes.clear()
    pair.bob.get(pair.url)  # a plain page load
    assert ">Active just now<" in pushes.to(pair.alice.user["_id"])  # told to his contacts at once
    assert not pushes.to(pair.bob.user["_id"])
    pushes.clear()
    pair.bob.get(pair.url)
    assert not pushes  # once a minute at most
    clock.advance(minutes=3)
    page = pair.alice.get(pair.url).get_data(as_text=True)
    assert ">Active 3 min ago<" in page
    clock.advance(minutes=20)
    page = pair.alice.get(pair.url).get_data(as_text=True)
    assert re.search(r">Last seen (today|yesterday) at \d\d:\d\d UTC<", page)  # Alice's zone is not known
    with ns_app.app_context():
        redis_client().delete(key("active", bob_id))
    say(pair.bob, "Still here")  # a send counts as much as a page load
    page = pair.alice.get(pair.url).get_data(as_text=True)
    assert ">Active just now<" in page


def test_presence_pushes_are_rendered_in_each_contacts_time_zone(pair, ns_app, pushes, clock):
    carol = person(ns_app, "carol")
    carol.post("/chats", data={"user_id": str(pair.bob.user["_id"]), "csrf_token": carol.token})
    on_a_page(pair.alice, carol)
    with ns_app.app_context():
        users.set_time_zone(pair.alice.user["_id"], "Asia/Tokyo")
        users.set_time_zone(carol.user["_id"], "America/New_York")
    clock.advance(seconds=5)
    with ns_app.test_request_context():
        hooks.of(ns_app).offline(pair.bob.user["_id"])
    tokyo, new_york = clock.at.astimezone(ZoneInfo("Asia/Tokyo")), clock.at.astimezone(ZoneInfo("America/New_York"))
    assert f"at {tokyo:%H:%M}<" in pushes.to(pair.alice.user["_id"])
    assert f"at {new_york:%H:%M}<" in pushes.to(carol.user["_id"])


@pytest.mark.parametrize(
    "headers, marked",
    [
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({}, False),  # a browser that says nothing, and no Referer from here
        ({"Referer": "https://elsewhere.example/page"}, False),
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "none"}, True),  # typed, or a bookmark
        ({"Referer": "http://localhost/"}, True),
    ],
)
def test_only_a_navigation_from_here_marks_messages_seen(pair, ns_app, pushes, headers, marked):
    say(pair.alice, "Seen only by Bob's own doing")
    run_chat_worker(ns_app)
    pushes.clear()
    assert pair.bob.get(pair.url, headers=headers).status_code == 200
    assert ("status-seen" in pushes.to(pair.alice.user["_id"])) is marked
    with ns_app.app_context():
        assert (chats.unread(chats.get(pair.id), pair.bob.user["_id"]) == 0) is marked


def test_opening_a_chat_with_nothing_unread_asks_the_store_for_nothing_unseen(pair, ns_app, monkeypatch):
    asked = []
    real_unseen = messages.unseen
    monkeypatch.setattr(messages, "unseen", lambda *args: asked.append(args) or real_unseen(*args))
    say(pair.alice, "Read at once")
    run_chat_worker(ns_app)
    from_here = {"Sec-Fetch-Site": "same-origin"}
    assert pair.bob.get(pair.url, headers=from_here).status_code == 200  # one unread: marked seen
    assert len(asked) == 1
    assert pair.bob.get(pair.url, headers=from_here).status_code == 200  # nothing unread now
    assert len(asked) == 1
    with ns_app.app_context():
        assert messages.unseen(pair.id, pair.bob.user["_id"]) == []


def test_typing_and_viewing_are_acted_on_only_as_often_as_a_page_sends_them(pair, ns_app, opened_page, pushes, clock):
    """Finding 4: 10,000 typing signals in a burst were all forwarded."""
    bob_page = opened_page(pair.bob, chat=str(pair.id), visible=False)
    alice_id = pair.alice.user["_id"]
    with ns_app.test_request_context():
        for _ in range(10_000):
            hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": True})
        assert len(pushes.received[alice_id]) == 1
        clock.advance(seconds=live.TYPING_EVERY)
        hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": True})  # still typing, 2 s on
        hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": False})
        assert len(pushes.received[alice_id]) == 3
        for n in range(10_000):  # on, off, on, off...: the page's budget runs out
            hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": n % 2 == 0})
        forwarded = len(pushes.received[alice_id])
        assert forwarded - 3 == live.BUDGET - 2  # what was left of it: 10, less 3 spent, plus 2 s of refill
        clock.advance(seconds=5)  # it fills again at one a second
        hooks.of(ns_app).message(bob_page, {"type": "typing", "typing": True})
        assert len(pushes.received[alice_id]) == forwarded + 1


def test_viewing_renewals_are_acted_on_once_per_renewal(pair, ns_app, opened_page, clock, monkeypatch):
    bob_page = opened_page(pair.bob, chat=str(pair.id), visible=False)
    started = []
    monkeypatch.setattr(viewing, "start", lambda *args: started.append(args) or False)
    with ns_app.test_request_context():
        for _ in range(1000):
            hooks.of(ns_app).message(bob_page, {"type": "viewing", "visible": True})
        assert len(started) == 1
        clock.advance(seconds=20)  # the page's renewal
        hooks.of(ns_app).message(bob_page, {"type": "viewing", "visible": True})
        assert len(started) == 2


def test_the_fallbacks_posts_are_throttled_per_page_too(pair, ns_app, pushes, clock):
    headers = {"X-CSRFToken": pair.bob.token}
    for _ in range(50):
        response = pair.bob.post(f"{pair.url}/typing", data={"typing": "1", "page": "p"}, headers=headers)
        assert response.status_code == 204
    assert len(pushes.received[pair.alice.user["_id"]]) == 1


def test_a_reconnecting_page_is_replayed_what_came_after_its_last_push_or_told_it_is_gone(ns_app):
    """push.since, which the hub calls in the web process when a page comes
    back (test_realtime.py has it end to end); here for the redis tier too."""
    from bson import ObjectId

    from app.realtime import push

    user_id = str(ObjectId())
    with ns_app.app_context():
        assert push.since(user_id, push.NO_PUSHES_YET) == []
        for n in (1, 2, 3):
            outbox = push.Outbox()
            outbox.add(user_id, f"<p>{n}</p>")
            outbox.send()
        everything = push.since(user_id, push.NO_PUSHES_YET)
        assert [p.html for p in everything] == ["<p>1</p>", "<p>2</p>", "<p>3</p>"]
        assert [p.html for p in push.since(user_id, everything[0].id)] == ["<p>2</p>", "<p>3</p>"]
        assert push.since(user_id, "1-0") is None  # older than anything kept: the page fetches afresh
