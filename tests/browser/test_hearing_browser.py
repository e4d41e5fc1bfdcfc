"""What a screen reader hears (issue 26): a conversation read top to bottom
by a virtual screen reader says each group's sender once and each message's
time once; the composer names "Attach image" once; an image link says it
opens the full image; names are isolated wherever they sit in a sentence;
and web addresses in messages are links, the same on the page and in a push."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import LIGHT_AND_DARK, assert_accessible, chat_link, connected, shoot
from tests.support.conversation import open_as, person, seed
from tests.support.screen_reader import heard, read_aloud

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1280, "height": 800}}


def parts(phrase):
    """A phrase's comma-separated parts: "heading, Bob Okafor , 08:25, level 3" has "Bob Okafor" and "08:25"."""
    return {part.strip() for part in phrase.split(",")}


def groups(docs, names):
    """The senders of the conversation's groups, as people read it: one
    person's messages in a row, each within 5 minutes of the one before."""
    senders, last = [], None
    for doc in docs:
        if not (
            last
            and last["sender_id"] == doc["sender_id"]
            and doc["created_at"] - last["created_at"] <= timedelta(minutes=5)
            and doc["created_at"].date() == last["created_at"].date()
        ):
            senders.append(names[doc["sender_id"]])
        last = doc
    return senders


# 19. Read top to bottom, a conversation says each group's sender once and each message's time once.
def test_a_conversation_says_each_sender_once_a_group_and_each_time_once(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, docs = seed(app, alice, bob, days=1)
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto(f"/chats/{chat_id}")
    expect(page.get_by_role("log").get_by_text("Got it.")).to_be_visible()
    said = heard(read_aloud(page, f"#messages-{chat_id}"))
    times = page.locator("#log .message-row time").all_inner_texts()
    senders = groups(docs, {alice["_id"]: "You", bob["_id"]: "Bob Okafor"})
    assert len(times) == len(docs) >= 10 and len(senders) >= 3
    print(
        f"\nthe messages, {len(docs)} in {len(senders)} groups, heard as {len(said)} phrases:\n  " + "\n  ".join(said)
    )
    spoken_times = Counter(time for phrase in said for time in parts(phrase) & set(times))
    assert spoken_times == Counter(times)  # each message's time once
    spoken_senders = Counter(name for phrase in said for name in parts(phrase) & {"You", "Bob Okafor"})
    assert spoken_senders == Counter(senders)  # each group's sender once
    whole = read_aloud(page)
    print(f"the whole chat page: {len(whole)} phrases from the virtual screen reader")


# 20. "Attach image" is said once, with what it takes.
def test_the_composer_says_attach_image_once(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=0, extra=1)
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto(f"/chats/{chat_id}")
    said = heard(read_aloud(page, "#composer"))
    print("\nthe composer: " + " | ".join(said))
    assert sum("Attach image" in phrase for phrase in said) == 1, said
    assert sum("Message" in parts(phrase) for phrase in said) == 1, said
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_visible()
    expect(page.get_by_label("Attach image")).to_have_attribute("type", "file")
    assert_accessible(page)


# 21. An image's link says that it opens the full image.
def test_an_image_link_says_it_opens_the_full_image(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1)
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto(f"/chats/{chat_id}")
    link = page.get_by_role("log").get_by_role("link").filter(has=page.get_by_role("img")).first
    expect(link).to_have_accessible_name(re.compile(r"^A \d+ by \d+ picture \(opens the full image in a new tab\)$"))
    expect(link).to_have_attribute("target", "_blank")


# 9. A right-to-left name is isolated wherever it appears in a sentence, the title included.
def test_a_right_to_left_name_is_isolated_in_every_sentence(new_page, live, app):
    gita_name = "گیتا رضایی"
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    gita, gita_cookies = person(app, "gita", gita_name)
    chat_id, _ = seed(app, alice, gita, days=0, extra=1, unread_for=alice, unread=1)
    isolated = """(element, name) => [...element.querySelectorAll("bdi, [dir=auto]")]
        .some((e) => e.textContent.trim() === name)"""
    page = open_as(new_page, live, alice_cookies, **WIDE)
    page.goto("/")
    connected(page)
    waiting = page.get_by_role("region", name="Waiting for you").get_by_role("listitem")
    expect(waiting).to_have_text(f"{gita_name}: 1 unread")
    places = {
        "Waiting for you": waiting,
        "the Chats entry": chat_link(page, gita_name),
    }
    for place, locator in places.items():
        assert locator.evaluate(isolated, gita_name), place
    assert_accessible(page)
    shoot(page, "home-right-to-left-name", LIGHT_AND_DARK)
    page.goto(f"/people?q={gita_name[:4]}")  # she is a contact: found by her name
    found = page.get_by_role("status").filter(has_text="found")
    chat_with = page.get_by_role("button", name=f"Chat with {gita_name}")
    for place, locator in {"the search's status": found, "the search's result": chat_with}.items():
        assert locator.evaluate(isolated, gita_name) or locator.evaluate(isolated, gita_name[:4]), place

    gita_page = open_as(new_page, live, gita_cookies, **WIDE)
    gita_page.goto(f"/chats/{chat_id}")
    connected(gita_page)
    page.goto(f"/chats/{chat_id}")
    connected(page)
    assert page.title() == f"\u2068{gita_name}\u2069 · Parley"
    gita_page.get_by_role("textbox", name="Message", exact=True).press_sequentially("سلام", delay=30)
    typing = page.locator(f"#typing-{chat_id}")
    expect(typing).to_have_text(f"{gita_name} is typing…")
    places = {
        "the chat heading": page.get_by_role("heading", level=1),
        "the typing line": typing,
        "the start of the conversation": page.get_by_text("This is the start of your conversation with"),
        "the sender's heading": page.get_by_role("log").get_by_role("heading", level=3).first,
        "Block NAME": page.locator("#chat-options-menu"),
    }
    for place, locator in places.items():
        assert locator.evaluate(isolated, gita_name), place
    page.get_by_label(f"Options for {gita_name}").click()
    page.get_by_role("button", name=f"Block {gita_name}").click()
    assert page.title() == f"Block \u2068{gita_name}\u2069 · Parley"
    assert page.get_by_role("heading", level=1).evaluate(isolated, gita_name)
    page.get_by_role("button", name=f"Block {gita_name}").click()
    flash = page.get_by_role("status").filter(has_text="You blocked")
    bar = page.locator("#blocked")
    for place, locator in {"the flash": flash, "the blocked bar": bar}.items():
        assert locator.evaluate(isolated, gita_name), place
    page.goto("/profile")
    unblock = page.get_by_role("button", name=f"Unblock {gita_name}")
    assert unblock.evaluate(isolated, gita_name)
    unblock.click()
    assert page.get_by_role("status").filter(has_text="You unblocked").evaluate(isolated, gita_name)
    shoot(page, "profile-unblocked-right-to-left-name", LIGHT_AND_DARK)


# 13. Web addresses in messages are links, safely, the same in a push as on the page.
def test_web_addresses_in_messages_are_links(new_page, live, app):
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=0, extra=1)
    alice_page = open_as(new_page, live, alice_cookies, **WIDE)
    bob_page = open_as(new_page, live, bob_cookies, **WIDE)
    for page in (alice_page, bob_page):
        page.goto(f"/chats/{chat_id}")
        connected(page)
    text = "Tickets: https://example.com/trains?from=a&to=b. Not javascript:alert(1) nor <b>this</b>"
    box = bob_page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")
    message = alice_page.get_by_role("log").locator(".message-text", has_text="Tickets")
    expect(message).to_have_text(text)
    link = message.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("https://example.com/trains?from=a&to=b")
    expect(link).to_have_attribute("href", "https://example.com/trains?from=a&to=b")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow ugc")
    expect(link).to_have_attribute("target", "_blank")
    pushed = message.inner_html()
    alice_page.reload()
    assert message.inner_html() == pushed  # the page and the push agree
    assert alice_page.evaluate("document.querySelectorAll('.message-text b').length") == 0
    assert_accessible(alice_page)
    shoot(alice_page, "chat-link-in-a-message", LIGHT_AND_DARK)
