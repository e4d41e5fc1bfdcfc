"""Searching messages (issue 29), with and without JavaScript: only your own
chats, any case and accent, the last word begun; a result opens the chat at
that message with focus on it, and earlier and newer messages load from
there; a message's link can be copied."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from playwright.sync_api import expect

from tests.support.browser import (
    LIGHT_AND_DARK,
    assert_accessible,
    assert_accessible_in_every_scheme,
    listen_to_live_regions,
    shoot,
    spoken,
)
from tests.support.conversation import open_as, person, seed

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1280, "height": 800}}
NARROW = {"viewport": {"width": 320, "height": 640}}


def talk(app, a, b, texts, start=None):
    """A chat between a and b with `texts`, a minute apart, a taking turns with b; returns its id."""
    from app.chats import present
    from app.data import chats, messages

    start = start or datetime.now(UTC) - timedelta(hours=3)
    with app.app_context():
        chat = chats.open_between(a["_id"], b["_id"])
        docs = [
            {
                "chat_id": chat["_id"],
                "seq": n,
                "sender_id": (a if n % 2 else b)["_id"],
                "receiver_id": (b if n % 2 else a)["_id"],
                "client_id": ObjectId().binary.hex().ljust(32, "0"),
                "text": text,
                "image": None,
                "seen_at": start,
                "created_at": start + timedelta(minutes=n),
            }
            for n, text in enumerate(texts, start=1)
        ]
        messages.save_all(docs)
        chats.record_messages({chat["_id"]: present.latest_message(docs[-1])}, {})
    return chat["_id"]


@pytest.fixture
def people(app):
    """Alice's chats: with Bob (three days of talk, "the cabin by the lake" each day), with Carol
    (the Lake Café), with Dave (blocked, about the lake); and Bob's with Eve, whom Alice never sees."""
    from app.data import chats

    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    carol, _ = person(app, "carol", "Carol Nakamura")
    dave, _ = person(app, "dave", "Dave Jones")
    eve, _ = person(app, "eve", "Eve Martin")
    bob_chat, docs = seed(app, alice, bob, days=3)
    carol_chat = talk(
        app,
        carol,
        alice,
        ["Meet at the LAKE CAFÉ?", "Yes, the Lake Café at noon", "<b>javascript:alert(1)</b> https://example.com/lake"],
    )
    dave_chat = talk(app, dave, alice, ["the lake house is mine"])
    with app.app_context():
        chats.block(dave_chat, alice["_id"])
    talk(app, bob, eve, ["the lake is cold"])
    return {
        "alice": alice,
        "alice_cookies": alice_cookies,
        "bob": bob,
        "bob_cookies": bob_cookies,
        "bob_chat": bob_chat,
        "carol_chat": carol_chat,
        "docs": docs,
    }


def results(page):
    return page.locator("#search-results")


def test_search_finds_only_your_chats_and_opens_a_result_at_its_message(new_page, live, people):
    page = open_as(new_page, live, people["alice_cookies"], **WIDE)
    listen_to_live_regions(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page.goto("/")
    chats_nav = page.get_by_role("navigation", name="Chats")
    chats_nav.get_by_role("searchbox", name="Search messages").fill("LAKE")
    chats_nav.get_by_role("searchbox", name="Search messages").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=LAKE$"))
    expect(page.get_by_role("heading", level=1, name="Search")).to_be_visible()
    found = results(page)
    # Under a heading per chat, the newest first: Carol's chat (today), then Bob's; never Dave's
    # (blocked) nor Bob's with Eve. Case and accents do not count.
    expect(found.get_by_role("heading", level=2)).to_have_text(["Carol Nakamura", "Bob Okafor"])
    expect(found.get_by_role("link")).to_have_count(3 + 3)
    expect(found.locator("mark").first).to_have_text("lake")
    expect(page.get_by_text("the lake house")).to_have_count(0)
    expect(page.get_by_text("the lake is cold")).to_have_count(0)
    # Escaped, and no link inside a result: "javascript:" is only text.
    expect(found.get_by_text("<b>javascript:alert(1)</b>", exact=False)).to_be_visible()
    assert page.evaluate("document.querySelectorAll('#search-results b').length") == 0
    newest = re.compile(r"^You, Today \d\d:\d\d: Oh, the cabin by the lake\? Lovely\.$")
    expect(found.get_by_role("link", name=newest)).to_be_visible()
    # As you type: the results and their count, said politely.
    field = page.get_by_role("searchbox", name="Search messages")
    expect(field).to_be_focused()
    field.fill("cabin LAK")
    expect(page.get_by_role("status")).to_have_text("3 messages found with “cabin LAK”.")
    expect(found.get_by_role("heading", level=2)).to_have_text(["Bob Okafor"])
    expect(found.locator("mark")).to_have_count(6)
    expect(page).to_have_url(re.compile(r"/search\?q=cabin\+LAK$"))
    assert "3 messages found with “cabin LAK”." in spoken(page)
    field.fill("café")
    expect(page.get_by_role("status")).to_have_text("2 messages found with “café”.")
    assert_accessible_in_every_scheme(page)
    field.fill("cabin lake")
    expect(page.get_by_role("status")).to_have_text("3 messages found with “cabin lake”.")
    shoot(page, "search-results-1280", LIGHT_AND_DARK)

    # The newest result opens the chat at that message, in context, with focus on it.
    found.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/chats/{people['bob_chat']}\?at=\d+#m-[0-9a-f]{{32}}$"))
    row = page.locator(".message-row:focus")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Oh, the cabin by the lake? Lovely.")
    expect(row).to_be_in_viewport()
    assert_accessible_in_every_scheme(page)
    shoot(page, "search-opened-at-a-message-1280", LIGHT_AND_DARK)
    # Its link, copied: said once, and it opens the chat at the message again.
    copy = page.locator(f"#{row.get_attribute('id')} .message-link")
    expect(copy).to_have_accessible_name("Copy link to this message")
    copy.focus()
    expect(copy).to_be_visible()
    copy.press("Enter")
    expect(copy.locator(".with-script")).to_have_text("Copied")
    link = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{live.url}/chats/{people['bob_chat']}/messages/\d+", link), link
    assert "Link copied." in spoken(page)
    # Earlier messages load above it.
    before = page.locator("#log .message-row").count()
    page.get_by_role("button", name="Load earlier messages").click()
    expect(page.locator("#log .message-row")).not_to_have_count(before)
    page.goto(link)
    expect(page.locator(".message-row:focus")).to_contain_text("Oh, the cabin by the lake? Lovely.")

    # Bob, the other member, finds the same messages of their chat, and not Carol's.
    bob = open_as(new_page, live, people["bob_cookies"], **NARROW)
    bob.goto("/")  # at 320 px Chats is the home page, and its search is there
    bob.get_by_role("searchbox", name="Search messages").fill("cabin")
    shoot(bob, "search-in-chats-320", LIGHT_AND_DARK)
    bob.get_by_role("searchbox", name="Search messages").press("Enter")
    expect(bob).to_have_url(re.compile(r"/search\?q=cabin$"))
    expect(results(bob).get_by_role("heading", level=2)).to_have_text(["Alice Appleton"])
    expect(results(bob).get_by_role("link")).to_have_count(3)
    bob.goto("/search?q=cafe")
    expect(bob.get_by_role("status")).to_have_text("No messages found with “cafe”.")
    bob.goto("/search?q=lake")
    expect(results(bob).get_by_role("heading", level=2)).to_have_text(["Eve Martin", "Alice Appleton"])
    assert_accessible(bob)
    shoot(bob, "search-results-320", LIGHT_AND_DARK)
    results(bob).get_by_role("link").nth(1).click()
    expect(bob.locator(".message-row:focus")).to_contain_text("the cabin by the lake")
    shoot(bob, "search-opened-at-a-message-320", LIGHT_AND_DARK)


def test_search_and_a_result_in_context_without_javascript(new_page, live, people):
    # (axe-core needs the page's JavaScript: the same pages are checked with it above.)
    page = open_as(new_page, live, people["alice_cookies"], java_script_enabled=False, **WIDE)
    page.goto("/")
    chats_nav = page.get_by_role("navigation", name="Chats")
    chats_nav.get_by_role("searchbox", name="Search messages").fill("Lovely")
    chats_nav.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("3 messages found with “Lovely”.")
    page.get_by_role("searchbox", name="Search messages").fill("lake caf")
    page.get_by_role("main").get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("2 messages found with “lake caf”.")
    expect(results(page).get_by_role("heading", level=2)).to_have_text(["Carol Nakamura"])
    results(page).get_by_role("link").last.click()
    row = page.locator(".message-row:focus")
    expect(row).to_contain_text("Meet at the LAKE CAFÉ?")
    expect(row).to_be_in_viewport()
    # Without the page script the permalink is a plain link to the message.
    link = row.get_by_role("link", name="Link to this message")
    assert re.fullmatch(rf"/chats/{people['carol_chat']}/messages/1", link.get_attribute("href"))
    # Addresses in messages are links, http(s) only, the text escaped.
    message = page.locator(".message-text", has_text="javascript:")
    expect(message).to_have_text("<b>javascript:alert(1)</b> https://example.com/lake")
    expect(message.get_by_role("link")).to_have_attribute("href", "https://example.com/lake")
    expect(message.get_by_role("link")).to_have_attribute("rel", "noopener noreferrer nofollow ugc")


@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_a_message_far_back_opens_with_earlier_and_newer_a_step_away(new_page, live, app, script):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id = talk(app, alice, bob, [f"note {n}" for n in range(1, 601)], datetime.now(UTC) - timedelta(hours=11))
    page = open_as(new_page, live, cookies, java_script_enabled=script, **WIDE)
    page.goto(f"/chats/{chat_id}/messages/100")
    log = page.get_by_role("log", name="Messages")
    expect(page.locator(".message-row:focus")).to_contain_text("note 100")
    expect(log.get_by_text("note 90", exact=True)).to_be_attached()
    expect(log.get_by_text("note 140", exact=True)).to_be_attached()
    expect(log.get_by_text("note 141", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Load newer messages").click()
    expect(page.locator(".message-row:focus")).to_contain_text("note 141")
    page.get_by_role("button", name="Load earlier messages").click()
    expect(log.get_by_text("note 100", exact=True)).to_be_attached()
    if script:
        assert_accessible(page)
