"""Finding people without exposing them, and blocking: through HTTP on real
services, pushes captured in this process."""

import re
import uuid

import pytest

from app.chats import blocks, live
from app.connections import db, redis_client
from app.data import chats, directory, users
from app.people import accounts
from app.realtime import hooks
from tests.support.people import FROM_HERE, HTMX, errors_in, person, say, send, unique_email
from tests.support.queues import queued_jobs


def found(client, query, headers=None):
    html = client.get("/people", query_string={"q": query}, headers=headers or {}).get_data(as_text=True)
    return re.findall(r"Chat with <bdi>([^<]+)</bdi></button>", html), html


def named(app, name):
    client = person(app, name.lower().replace(" ", ""))
    client.post("/profile", data={"name": name, "csrf_token": client.token})
    return client


def test_a_stranger_cannot_list_everyone_with_one_letter_searches(ns_app):
    """Finding 6: 26 one-letter searches listed every user's name and email."""
    for letter in "abcdefghij":
        person(ns_app, f"{letter}person")
    stranger = person(ns_app, "stranger")
    names, pages = set(), ""
    for letter in "abcdefghijklmnopqrstuvwxyz":
        got, html = found(stranger, letter)
        names |= set(got)
        pages += html
    assert names == set() and "@example.com" not in pages


def test_private_directory_a_stranger_by_full_address_names_by_your_contacts(pair, ns_app):
    zelda = named(ns_app, "Zelda Quill")
    alice = pair.alice
    assert found(alice, "zel")[0] == []  # a stranger's name finds nothing
    names, html = found(alice, zelda.user["email"].upper())  # her whole address does
    assert names == ["Zelda Quill"] and zelda.user["email"] not in html
    assert found(alice, zelda.user["email"][:-1])[0] == []  # not a prefix of it
    alice.post("/chats", data={"user_id": str(zelda.user["_id"]), "csrf_token": alice.token})
    assert found(alice, "QUI")[0] == ["Zelda Quill"]  # now she is a contact
    bob_name = pair.bob.user["name"]
    assert found(alice, bob_name[:3])[0] == [bob_name]
    assert found(alice, pair.bob.user["email"].split("@")[0][:3] + "@")[0] == []  # emails are not names
    assert found(alice, alice.user["email"])[0] == []  # never yourself
    fragment = alice.get("/people?q=qui", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="people-results"') and "<nav" not in fragment
    assert "1 person found for “<bdi>qui</bdi>”." in fragment


def test_open_directory_lists_everyone_by_name_but_never_by_email(ns_app):
    ns_app.config["DIRECTORY"] = "open"
    tag = unique_email("x").split("-")[1].split("@")[0]
    zelda = named(ns_app, f"Zelda{tag} Quill")
    stranger = person(ns_app, "stranger")
    names, html = found(stranger, f"zelda{tag}")
    assert names == [f"Zelda{tag} Quill"] and "@example.com" not in html
    assert found(stranger, zelda.user["email"].split("@")[0])[0] == []  # the start of her address


def test_open_directory_gives_the_first_by_name_from_one_read_however_many_match(ns_app):
    """The users' index range for a prefix took 4.4 s at 100,000 matching
    names: a search reads the prefix's one directory document."""
    ns_app.config["DIRECTORY"] = "open"
    tag = uuid.uuid4().hex[:5]  # "quill" and the tag: as long a prefix as is listed
    with ns_app.app_context():
        made = [users.find_or_create(unique_email(f"q{n}")) for n in range(50)]
        for n, user in enumerate(made):  # made first, named last
            users.rename(user, f"Quill{tag} {49 - n:02d}")
        assert len(db().directory.find_one({"_id": f"quill{tag}"})["people"]) == directory.KEPT
    stranger = person(ns_app, "stranger")
    assert found(stranger, f"quill{tag}")[0] == [f"Quill{tag} {n:02d}" for n in range(20)]
    assert found(stranger, f"{tag}")[0] == []  # a word's middle is not a prefix


def test_the_directory_follows_renames_and_departures(ns_app):
    ns_app.config["DIRECTORY"] = "open"
    tag = uuid.uuid4().hex[:6]  # "rook" and the tag: as long a prefix as is listed
    with ns_app.app_context():
        made = [users.find_or_create(unique_email(f"r{n}")) for n in range(45)]
        for n, user in enumerate(made):
            users.rename(user, f"Rook{tag} {n:02d}")
        for user in made[:30]:  # 30 of the 40 listed leave the list: it is read again from the users
            users.rename(users.get(user["_id"]), f"Gone{tag}")
        accounts.delete(users.get(made[30]["_id"]))
        listed = users.by_name(f"rook{tag}", limit=21)
    assert [person["name"] for person in listed] == [f"Rook{tag} {n:02d}" for n in range(31, 45)]
    stranger = person(ns_app, "stranger")
    assert found(stranger, f"gone{tag}")[0] == [f"Gone{tag}"] * 20


def test_the_release_lists_people_made_before_the_directory(ns_app):
    ns_app.config["DIRECTORY"] = "open"
    tag = uuid.uuid4().hex[:6]
    with ns_app.app_context():
        for n in range(3):
            db().users.insert_one(users.new_user(f"sage{tag}{n}@example.com"))  # as a deploy before it left them
        saved = list(db().directory.find())
        db().directory.delete_many({})
        try:
            assert directory.build() >= 3
            assert [person["name"] for person in users.by_name(f"sage{tag}")] == [f"sage{tag}{n}" for n in range(3)]
            assert directory.build() == 0  # once
        finally:
            db().directory.delete_many({})
            db().directory.insert_many(saved)


def test_the_setting_is_checked():
    import config

    with pytest.raises(config.ConfigError, match="DIRECTORY is 'everyone'; expected 'private' or 'open'"):
        config.load({"APP_ENV": "test", "SECRET_KEY": "s", "JWT_SECRET_KEY": "j", "DIRECTORY": "everyone"})


def block(client, other_client, pair):
    """Block as a person does: the button, the page that asks, then the block."""
    page = client.get(f"{pair.url}/block").get_data(as_text=True)
    assert f"<h1>Block <bdi>{other_client.user['name']}</bdi>?</h1>" in page
    assert f">Block <bdi>{other_client.user['name']}</bdi></button>" in page
    return client.post(f"{pair.url}/block", data={"csrf_token": client.token})


def test_block_asks_first(pair, ns_app):
    page = pair.alice.get(pair.url).get_data(as_text=True)
    assert f'action="{pair.url}/block"' in page and f">Block <bdi>{pair.bob.user['name']}</bdi></button>" in page
    pair.alice.get(f"{pair.url}/block")  # the page that asks blocks nothing
    with ns_app.app_context():
        assert chats.blocked_by(pair.id) == []
    response = block(pair.alice, pair.bob, pair)
    assert response.status_code == 303 and response.headers["Location"] == pair.url  # back in the chat
    assert f"You blocked <bdi>{pair.bob.user['name']}</bdi>." in pair.alice.get(pair.url).get_data(as_text=True)


def test_someone_you_blocked_cannot_message_you_and_keeps_their_draft(pair, ns_app):
    block(pair.alice, pair.bob, pair)
    response = send(pair.bob, "Are you there?", headers=HTMX)
    assert response.status_code == 403
    assert errors_in(response.get_data(as_text=True)) == [f"{pair.alice.user['name']} is not taking messages from you."]
    page = send(pair.bob, "Are you there?")  # without JavaScript: the page again, the draft in the form
    assert page.status_code == 403 and ">Are you there?</textarea>" in page.get_data(as_text=True)
    # Her page offers no message box, only Unblock; a send from elsewhere (an old tab) is refused.
    page = pair.alice.get(pair.url).get_data(as_text=True)
    assert 'id="composer"' not in page and f'action="{pair.url}/unblock"' in page
    mine = pair.alice.post(
        f"{pair.url}/messages",
        data={"client_id": uuid.uuid4().hex, "text": "Sorry", "csrf_token": pair.alice.token},
        headers=HTMX,
    )
    assert errors_in(mine.get_data(as_text=True)) == [
        f"You blocked {pair.bob.user['name']}. Unblock them to send messages."
    ]
    assert queued_jobs(ns_app, "chat:messages") == []


def test_a_block_counts_at_once_though_sends_no_longer_read_it_from_mongodb(pair, ns_app):
    """Sends check blocks kept in Redis (reading MongoDB each time cost 13% of
    the web process's CPU): a block replaces what was kept, and a refill that
    read MongoDB before the block cannot put "no block" back."""
    assert send(pair.bob, "Before", headers=HTMX).status_code == 200  # "no block" is now kept
    with ns_app.test_request_context():
        read_before = chats.blocked_by(pair.id)
        blocks.block(pair.id, pair.alice.user["_id"], (pair.alice.user["_id"], pair.bob.user["_id"]))
        redis_client().set(blocks.state_key(pair.id), blocks._text(read_before), nx=True, ex=blocks.KEEP)
    assert send(pair.bob, "After", headers=HTMX).status_code == 403
    with ns_app.test_request_context():
        redis_client().delete(blocks.state_key(pair.id))  # Redis lost it: MongoDB says
    assert send(pair.bob, "After", headers=HTMX).status_code == 403


def test_a_redis_out_of_memory_does_not_stop_the_block_check(pair, namespace, private_redis):
    """Keeping the state is only a saving: when Redis refuses writes, MongoDB's answer stands."""
    from app import create_app

    app = create_app({"KEY_PREFIX": namespace["KEY_PREFIX"], "REDIS_URL": private_redis.url})
    with app.test_request_context():
        chats.block(pair.id, pair.alice.user["_id"])
        private_redis.client().config_set("maxmemory", 1)  # every write refused: OOM
        assert blocks.of(pair.id) == [pair.alice.user["_id"]]


def test_blocking_hides_the_chat_from_the_blocker_and_presence_from_both(pair, ns_app, pushes):
    say(pair.bob, "Hello")
    block(pair.alice, pair.bob, pair)
    pushes.clear()  # what the block itself told their pages (see test_a_block_hides_presence_at_once)
    alice_home = pair.alice.get("/").get_data(as_text=True)
    assert f'href="{pair.url}"' not in alice_home  # gone from her Chats
    assert f'href="{pair.url}"' in pair.bob.get("/").get_data(as_text=True)  # his history stays his
    with ns_app.test_request_context():
        hooks.of(ns_app).online(pair.alice.user["_id"])
        hooks.of(ns_app).online(pair.bob.user["_id"])
        live.typing(pair.id, pair.alice.user["_id"], True)
    assert not pushes  # no presence, no typing, either way
    bob_view = pair.bob.get(pair.url, headers=FROM_HERE).get_data(as_text=True)
    assert ">Offline</span>" in bob_view and "Last seen" not in bob_view and "Active" not in bob_view


def test_someone_who_blocked_you_cannot_be_found(pair, ns_app):
    block(pair.alice, pair.bob, pair)
    assert found(pair.bob, pair.alice.user["email"])[0] == []
    assert found(pair.bob, pair.alice.user["name"][:3])[0] == []


def test_profile_lists_blocked_people_and_unblocks_them(pair, ns_app):
    profile = pair.alice.get("/profile").get_data(as_text=True)
    assert "You have blocked no one." in profile
    block(pair.alice, pair.bob, pair)
    profile = pair.alice.get("/profile").get_data(as_text=True)
    bob = pair.bob.user["name"]
    assert '<ul class="blocked" aria-labelledby="blocked-heading">' in profile
    assert f">Unblock <bdi>{bob}</bdi></button>" in profile
    response = pair.alice.post(f"{pair.url}/unblock", data={"csrf_token": pair.alice.token})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert f"You unblocked <bdi>{bob}</bdi>." in pair.alice.get("/profile").get_data(as_text=True)
    assert send(pair.bob, "Back again", headers=HTMX).status_code == 200
    assert f'href="{pair.url}"' in pair.alice.get("/").get_data(as_text=True)
    eve = person(ns_app, "eve")
    assert eve.post(f"{pair.url}/unblock", data={"csrf_token": eve.token}).status_code == 404
    assert eve.post(f"{pair.url}/block", data={"csrf_token": eve.token}).status_code == 404
