"""Searching messages, and opening a chat at one: through HTTP on real
services (SecantusDB's explain() shows the index each query reads)."""

import re
from datetime import timedelta

import pytest
from bson import ObjectId

from app import clock
from app.chats import present
from app.connections import db
from app.data import chats, messages, search
from tests.support.people import HTMX, person, say
from tests.support.queues import run_chat_worker


@pytest.fixture(autouse=True)
def in_app(ns_app):
    with ns_app.app_context():
        yield


def hits(client, query, **args):
    """(the results' texts as shown, the whole page)."""
    html = client.get("/search", query_string={"q": query, **args}).get_data(as_text=True)
    found = re.findall(r'<span class="search-hit-text" dir="auto">(.*?)</span></a>', html)
    return found, html


def history(pair, texts, start=None):
    """Messages saved as the chat worker saves them, Alice and Bob in turn, a minute apart."""
    start = start or clock.now() - timedelta(days=2)
    chat = chats.get(pair.id)
    first = chat.get("last_seq", 0) + 1
    docs = []
    for n, text in enumerate(texts):
        sender, receiver = (pair.alice, pair.bob) if n % 2 == 0 else (pair.bob, pair.alice)
        docs.append(
            {
                "chat_id": pair.id,
                "seq": first + n,
                "sender_id": sender.user["_id"],
                "receiver_id": receiver.user["_id"],
                "client_id": ObjectId().binary.hex() + "00000000",
                "text": text,
                "image": None,
                "seen_at": start,
                "created_at": start + timedelta(minutes=n),
            }
        )
    messages.save_all(docs)
    chats.record_messages({pair.id: present.latest_message(docs[-1])}, {})
    return docs


def test_search_finds_words_in_your_chats_any_case_any_accent_the_last_word_begun(pair, ns_app):
    say(pair.alice, "The Café on Rue Crème opens at nine")
    say(pair.bob, "see you at the cafe then")
    say(pair.alice, "Nothing to find here")
    assert run_chat_worker(ns_app) == {}
    for client in (pair.alice, pair.bob):  # both members find both messages, newest first
        found, html = hits(client, "CAFE")
        assert found == ["see you at the <mark>cafe</mark> then", "The <mark>Café</mark> on Rue Crème opens at nine"]
        assert "2 messages found with “<bdi>CAFE</bdi>”." in html
    assert hits(pair.alice, "crème caf")[0] == ["The <mark>Café</mark> on Rue <mark>Crème</mark> opens at nine"]
    assert hits(pair.alice, "creme op")[0] == ["The Café on Rue <mark>Crème</mark> <mark>opens</mark> at nine"]
    assert hits(pair.alice, "op creme")[0] == []  # words before the last are whole words
    assert hits(pair.alice, "caféterias")[0] == []
    _, html = hits(pair.alice, "zebra")
    assert "No messages found with “<bdi>zebra</bdi>”." in html
    # Each result: "NAME, date: text" under its chat's heading, a link to the message in its chat.
    _, html = hits(pair.alice, "nine")
    bob = pair.bob.user["name"]
    assert f'<h2 id="search-chat-{pair.id}"><bdi>{bob}</bdi></h2>' in html
    assert re.search(r'<span class="search-hit-meta"><bdi>You</bdi>, Today \d\d:\d\d( UTC)?:</span>', html)
    assert f'href="/chats/{pair.id}/messages/1"' in html


def test_search_never_finds_a_chat_you_are_not_in_nor_one_with_a_block(pair, ns_app):
    carol = person(ns_app, "carol")
    carol.chat_url = carol.post(
        "/chats", data={"user_id": str(pair.alice.user["_id"]), "csrf_token": carol.token}
    ).headers["Location"]
    say(pair.alice, "secret plans with Bob")
    say(carol, "secret plans with Alice")
    assert run_chat_worker(ns_app) == {}
    assert len(hits(pair.alice, "secret")[0]) == 2
    assert hits(pair.bob, "secret")[0] == ["<mark>secret</mark> plans with Bob"]
    assert hits(carol, "secret")[0] == ["<mark>secret</mark> plans with Alice"]
    outsider = person(ns_app, "outsider")
    assert hits(outsider, "secret")[0] == [] and hits(outsider, "plans with")[0] == []
    # Either member's block hides the chat from both, until it is undone.
    carol.post(carol.chat_url + "/block", data={"csrf_token": carol.token})
    assert hits(pair.alice, "secret")[0] == ["<mark>secret</mark> plans with Bob"]
    assert hits(carol, "secret")[0] == []
    carol.post(carol.chat_url + "/unblock", data={"csrf_token": carol.token})
    assert len(hits(pair.alice, "secret")[0]) == 2


def test_search_pages_newest_first_and_htmx_gets_the_results_and_their_count(pair):
    history(pair, [f"minute {n} of the meeting" for n in range(25)])
    first, html = hits(pair.alice, "meeting")
    assert first[0].startswith("minute 24 ") and first[-1].startswith("minute 5 ") and len(first) == 20
    assert "The newest 20 messages with “<bdi>meeting</bdi>”." in html
    older = re.search(r'href="(/search\?[^"]*before=[0-9a-f]{24})">Older results', html).group(1).replace("&amp;", "&")
    rest = pair.alice.get(older).get_data(as_text=True)
    shown = re.findall(r'<span class="search-hit-text" dir="auto">minute (\d+) of', rest)
    assert shown == ["4", "3", "2", "1", "0"] and "Older results" not in rest
    assert "Newest results" in rest
    fragment = pair.alice.get("/search?q=meet", headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="search-results"') and "<nav" not in fragment
    assert '<div id="search-status" hx-swap-oob="innerHTML">The newest 20 messages' in fragment


def test_a_deleted_message_drops_out_and_an_edited_one_is_found_by_its_new_words(pair):
    [kept, changed] = history(pair, ["the parcel arrived", "the parcel is late"])
    assert len(hits(pair.bob, "parcel")[0]) == 2
    # What deleting and editing do to a message: its text, and its keys from that text.
    members = (changed["sender_id"], changed["receiver_id"])
    db().messages.update_one({"_id": kept["_id"]}, {"$set": {"text": "", "search_keys": search.keys("", members)}})
    db().messages.update_one(
        {"_id": changed["_id"]},
        {"$set": {"text": "the box is late", "search_keys": search.keys("the box is late", members)}},
    )
    assert hits(pair.bob, "parcel")[0] == [] and hits(pair.bob, "box")[0] == ["the <mark>box</mark> is late"]


def test_the_search_query_reads_one_narrow_index_range(pair):
    docs = history(pair, ["where shall we meet", "meet at the station"])
    key = f"{pair.alice.user['_id']} meet"
    window = {"$gte": docs[0]["created_at"] - timedelta(minutes=1), "$lt": clock.now()}
    plan = db().messages.find({"search_keys": key, "created_at": window}, search.FIELDS).explain()
    text = str(plan["queryPlanner"]["winningPlan"])
    assert "COLLSCAN" not in text and "IXSCAN" in text and "search_keys_1_created_at_-1" in text
    # A beginning is a key of its own: an equality, never a regex or a range on the multikey field.
    assert f"{pair.alice.user['_id']} sta" in db().messages.find_one({"_id": docs[1]["_id"]})["search_keys"]
    assert not any(key.endswith(" s") for key in db().messages.find_one({"_id": docs[1]["_id"]})["search_keys"])


def test_a_message_link_opens_the_chat_at_it_with_earlier_and_newer_a_step_away(pair):
    history(pair, [f"message {n}" for n in range(1, 601)])
    # Far from the newest: the message, ten before it, forty after, then "Load newer messages".
    response = pair.bob.get(f"{pair.url}/messages/100")
    assert response.status_code == 302
    target = db().messages.find_one({"chat_id": pair.id, "seq": 100})
    assert response.headers["Location"] == f"{pair.url}?at=100#m-{target['client_id']}"
    page = pair.bob.get(f"{pair.url}?at=100").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'dir="auto">message (\d+)</p>', page)]
    assert shown == list(range(90, 141))
    assert f'id="m-{target["client_id"]}" class="message-row' in page
    assert re.search(rf'id="m-{target["client_id"]}"[^>]*tabindex="-1"', page)
    assert 'name="older_than" value="90"' in page  # Load earlier messages
    assert f'href="{pair.url}/messages/141">Load newer messages' in page and 'data-newest="000000000140"' in page
    # Near the newest: the newest page (at least ten before it), live as ever.
    page = pair.bob.get(f"{pair.url}?at=590").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r'dir="auto">message (\d+)</p>', page)]
    assert shown == list(range(551, 601)) and "Load newer messages" not in page and "data-newest" not in page
    # Every saved message carries its permalink.
    assert f'<a class="message-link" href="{pair.url}/messages/600">' in page
    # Not a member, or no such message: 404.
    assert person(pair.alice.application, "eve").get(f"{pair.url}/messages/100").status_code == 404
    assert pair.bob.get(f"{pair.url}/messages/601").status_code == 404
    assert pair.bob.get(f"{pair.url}/messages/99999999999999999999").status_code == 404
    assert pair.bob.get(f"{pair.url}?at=99999999999999999999").status_code == 400


def test_backfill_gives_older_messages_their_keys(pair, ns_app):
    docs = history(pair, ["an old message about tulips"])
    db().messages.update_one({"_id": docs[0]["_id"]}, {"$unset": {"search_keys": ""}})
    assert hits(pair.alice, "tulips")[0] == []
    result = ns_app.test_cli_runner().invoke(args=["search", "backfill"], catch_exceptions=False)
    assert result.exit_code == 0 and "their search keys." in result.output
    assert hits(pair.alice, "tulip")[0] == ["an old message about <mark>tulips</mark>"]
    again = ns_app.test_cli_runner().invoke(args=["search", "backfill"], catch_exceptions=False)
    assert "Gave 0 messages" in again.output
