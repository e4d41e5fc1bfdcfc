"""Finding people without exposing them, and blocking: through HTTP on real
services, pushes captured in this process."""

import re
import uuid
from html.parser import HTMLParser

import pytest

from app.chats import blocks, live
from app.connections import db, redis_client
from app.data import chats, directory, users
from app.people import accounts, search
from app.realtime import hooks
from tests.support.people import FROM_HERE, HTMX, errors_in, person, say, send, unique_email
from tests.support.queues import queued_jobs, run_chat_worker


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


def test_whole_address_lookups_are_limited_per_person(ns_app, clock, monkeypatch):
    """Issue 30, finding 5: 300 full-address lookups in 2.5 s confirmed 180 accounts."""
    monkeypatch.setattr(search, "ADDRESS_LOOKUPS", (3, 3600), raising=False)
    zelda, prober = named(ns_app, "Zelda Quill"), person(ns_app, "prober")
    addresses = [unique_email("probe") for _ in range(3)]
    for address in addresses + addresses[:1]:  # the same address twice counts once
        assert found(prober, address)[0] == []
    response = prober.get("/people", query_string={"q": zelda.user["email"]}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and "Chat with" not in html
    assert "You have looked up many email addresses in a short time. Try again in 60 minutes." in html
    assert found(prober, "zel")[0] == []  # a name search is not a lookup: it still answers
    assert found(person(ns_app, "someone"), zelda.user["email"])[0] == ["Zelda Quill"]  # per person
    clock.advance(hours=1)
    assert found(prober, zelda.user["email"])[0] == ["Zelda Quill"]


@pytest.mark.parametrize(
    "name, message",
    [
        ("Ada\u202eecalevoL", "Your name cannot contain control, formatting or line-break characters."),
        ("\u200b\u200c\u200d", "Your name cannot contain control, formatting or line-break characters."),
        ("Ada\x1b[2J\x07", "Your name cannot contain control, formatting or line-break characters."),
        ("Ada\u2028Lovelace", "Your name cannot contain control, formatting or line-break characters."),
        ("\u3164\u3164", "Your name needs at least one visible letter, digit or symbol."),
    ],
    ids=["rlo", "zero-width", "escapes", "line-separator", "hangul-fillers"],
)
def test_names_that_hide_or_scramble_are_refused_with_a_reason(ns_app, name, message):
    """Issue 30, finding 7: an RLO, zero-width-only names, NUL/BEL/ESC and line separators were accepted."""
    client = person(ns_app, "named")
    for path in ("/profile", "/welcome"):
        response = client.post(path, data={"name": name, "csrf_token": client.token})
        assert response.status_code == 422 and errors_in(response.get_data(as_text=True)) == [message]
    with ns_app.app_context():
        assert users.get(client.user["_id"])["name"] == client.user["name"]


def test_a_name_is_kept_in_one_form(ns_app):
    client = person(ns_app, "zoe")
    client.post("/profile", data={"name": " Zoe\u0308 ", "csrf_token": client.token})
    with ns_app.app_context():
        assert users.get(client.user["_id"])["name"] == "Zo\u00eb"


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


def test_a_message_on_its_way_when_a_block_comes_is_not_delivered_and_its_sender_is_told(pair, ns_app, pushes):
    """Issue 30, finding 3: the chat worker checked membership, not blocks: a
    message left "Not sent" before Ada blocked Bob reached Ada's open page
    when Bob pressed Retry after the block."""
    from app import broker
    from app.chats.sending import pending

    ada, bob = pair.alice, pair.bob

    def lost_on_the_way(name, payload):
        raise broker.PublishError("connection lost", maybe_queued=True)

    original = pending.broker.publish
    pending.broker.publish = lost_on_the_way
    try:
        assert send(bob, "Left not sent", headers=HTMX).status_code == 503
    finally:
        pending.broker.publish = original
    say(bob, "On its way")  # queued, not yet delivered
    page = bob.get(pair.url).get_data(as_text=True)
    retry = re.search(r'action="(/chats/[0-9a-f]{24}/unsent/[0-9a-f]{32})"', page).group(1)
    block(ada, bob, pair)
    response = bob.post(retry, data={"action": "retry", "csrf_token": bob.token})
    assert response.status_code == 303
    with ns_app.app_context():  # the page says why; a script could queue it all the same
        job = pending.unconfirmed(pair.id, bob.user["_id"], retry.rsplit("/", 1)[1])
        if job is not None:
            pending.accept(job)
    run_chat_worker(ns_app)
    with ns_app.app_context():
        assert db().messages.count_documents({"chat_id": pair.id}) == 0
        assert pending.messages(pair.id, bob.user["_id"], ada.user["_id"]) == []
    assert "Left not sent" not in pushes.to(ada.user["_id"]) and "On its way" not in pushes.to(ada.user["_id"])
    told = pushes.to(bob.user["_id"])
    assert told.count(">Not delivered</p>") == 2
    assert f"<bdi>{ada.user['name']}</bdi> is not taking messages from you." in told


def test_no_seen_crosses_a_block_either_way(pair, ns_app, pushes):
    """Issue 30, finding 3: opening the chat sent a "Seen" to the other person
    in both directions, though the block page promises the blocked person
    sees nothing of the blocker."""
    ada, bob = pair.alice, pair.bob
    say(ada, "From Ada")
    say(bob, "From Bob")
    run_chat_worker(ns_app)
    block(ada, bob, pair)
    pushes.clear()
    for reader in (ada, bob):
        reader.get(pair.url, headers=FROM_HERE)
    assert "status-seen" not in pushes.to(ada.user["_id"]) + pushes.to(bob.user["_id"])
    with ns_app.app_context():
        assert db().messages.count_documents({"chat_id": pair.id, "seen_at": {"$ne": None}}) == 0


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


class Isolation(HTMLParser):
    """Where `name` shows in a page, whether it is isolated from the text
    around it: inside a <bdi> or an element with dir=auto, or (in a title or
    an attribute that is shown, which hold no elements) between FSI and PDI."""

    SHOWN = ("title", "alt", "placeholder", "value")

    def __init__(self, name):
        super().__init__()
        self.name, self.stack, self.bare = name, [], []

    def handle_starttag(self, tag, attrs):
        for attribute, value in attrs:
            if attribute in self.SHOWN and value and self.name in value and f"\u2068{self.name}\u2069" not in value:
                self.bare.append(f"<{tag} {attribute}>")
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source"):
            self.stack.append((tag, tag == "bdi" or dict(attrs).get("dir") == "auto"))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if self.name not in data or f"\u2068{self.name}\u2069" in data:
            return
        if not any(isolated for _, isolated in self.stack):
            self.bare.append(f"<{self.stack[-1][0] if self.stack else ''}> {data.strip()[:60]!r}")


def bare_names(html, name):
    parser = Isolation(name)
    parser.feed(html)
    return parser.bare


def test_a_name_is_isolated_wherever_the_other_person_sees_it(pair, ns_app, pushes):
    """Issue 30, finding 7: a right-to-left override in an old account's name
    (new ones are refused) turned the text after it around in 9 places."""
    name = "Ada\u202eevoL"
    with ns_app.app_context():
        users.rename(users.get(pair.alice.user["_id"]), name)
    bob = pair.bob
    say(pair.alice, "Hello")
    run_chat_worker(ns_app)
    assert pair.alice.post(f"{pair.url}/typing", data={"typing": "1"}, headers={"X-CSRFToken": pair.alice.token})
    pages = {
        "home": bob.get("/"),
        "chat": bob.get(pair.url, headers=FROM_HERE),
        "block": bob.get(f"{pair.url}/block"),
        "people": bob.get("/people", query_string={"q": pair.alice.user["email"]}),
    }
    seen = {where: page.get_data(as_text=True) for where, page in pages.items()}
    seen["pushes"] = pushes.to(bob.user["_id"])
    assert name in seen["chat"] and "is typing" in seen["pushes"] and "Block" in seen["chat"]
    bob.post(f"{pair.url}/block", data={"csrf_token": bob.token})
    seen["profile"] = bob.get("/profile").get_data(as_text=True)
    bare = {where: found for where, html in seen.items() if (found := bare_names(html, name))}
    assert bare == {}, "\n".join(f"{where}: {found}" for where, found in bare.items())
