"""Replying (issue 29): Reply on a message puts "Replying to NAME: first
words" above the message box, the sent message carries that quote to both
people, and its "Go to the original" lands on the original, with and
without JavaScript, by keyboard alone."""

import pytest
from playwright.sync_api import expect

from tests.support.browser import LIGHT_AND_DARK, assert_accessible, connected, shoot
from tests.support.conversation import open_as, person, seed

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1280, "height": 800}}
NARROW = {"viewport": {"width": 320, "height": 640}}


@pytest.fixture
def replying_pair(app):
    """Alice and Bob with a day of talk behind them."""
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1)
    return alice_cookies, bob_cookies, chat_id


def row(page, text):
    """The message that says `text` (not one quoting it)."""
    said = page.locator(".message-text", has_text=text)
    return page.get_by_role("log").locator(".message-row", has=said).last


def write(page, text):
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def test_a_reply_by_keyboard_quotes_the_original_for_both_and_leads_back_to_it(new_page, live, replying_pair):
    alice_cookies, bob_cookies, chat_id = replying_pair
    alice = open_as(new_page, live, alice_cookies, **WIDE)
    bob = open_as(new_page, live, bob_cookies, **NARROW)
    for page in (alice, bob):
        page.goto(f"/chats/{chat_id}")
        connected(page)
    write(alice, "Shall we meet at the old harbour café at seven, or is that too late for you?")
    expect(row(bob, "old harbour café")).to_be_visible()

    # Bob reaches Reply by keyboard, answers, and the box is his again.
    reply = row(bob, "old harbour café").get_by_role("link", name="Reply to the message from Alice Appleton")
    reply.focus()
    bob.keyboard.press("Enter")
    box = bob.get_by_role("textbox", name="Message", exact=True)
    expect(bob.locator("#reply-quote")).to_have_text(
        "Replying to Alice Appleton: Shall we meet at the old harbour café at seven, or is that too late for you?"
    )
    expect(box).to_be_focused()

    assert_accessible(bob)
    shoot(bob, "reply-composer-320", LIGHT_AND_DARK)
    box.fill("Seven is perfect")
    box.press("Enter")
    expect(bob.locator("#composer-reply")).to_be_hidden()

    for page, who in ((bob, "Alice Appleton"), (alice, "You")):
        quote = row(page, "Seven is perfect").locator("blockquote")
        expect(quote).to_contain_text(f"In reply to {who}: Shall we meet at the old harbour café")
        expect(quote.get_by_role("link", name="Go to the original")).to_be_visible()
    shoot(bob, "reply-sent-320", LIGHT_AND_DARK)
    shoot(alice, "reply-sent-1280", LIGHT_AND_DARK)
    assert_accessible(alice)

    # "Go to the original" lands on it, in place, with focus on it.
    link = row(alice, "Seven is perfect").get_by_role("link", name="Go to the original")
    link.focus()
    alice.keyboard.press("Enter")
    original = row(alice, "old harbour café")
    expect(original).to_be_focused()
    expect(original).to_be_in_viewport()


def test_escape_and_cancel_end_a_reply_and_the_next_message_answers_none(new_page, live, app, replying_pair):
    alice_cookies, bob_cookies, chat_id = replying_pair
    bob = open_as(new_page, live, bob_cookies, **WIDE)
    bob.goto(f"/chats/{chat_id}")
    connected(bob)
    last = bob.get_by_role("log").locator(".message-row").last
    last.get_by_role("link", name="Reply", exact=False).first.click()
    expect(bob.locator("#composer-reply")).to_be_visible()
    box = bob.get_by_role("textbox", name="Message", exact=True)
    box.press("Escape")
    expect(bob.locator("#composer-reply")).to_be_hidden()
    expect(bob.locator("#send-status")).to_have_text("Reply cancelled.")
    last.get_by_role("link", name="Reply", exact=False).first.click()
    bob.get_by_role("link", name="Cancel reply").click()
    expect(bob.locator("#composer-reply")).to_be_hidden()
    expect(box).to_be_focused()
    write(bob, "A message of its own")
    expect(row(bob, "A message of its own").locator(".message-status")).to_have_text("Sent")
    expect(row(bob, "A message of its own").locator("blockquote")).to_have_count(0)


def test_without_javascript_reply_is_a_link_and_the_quote_is_sent(new_page, live, replying_pair):
    alice_cookies, bob_cookies, chat_id = replying_pair
    bob = open_as(new_page, live, bob_cookies, java_script_enabled=False, **WIDE)
    bob.goto(f"/chats/{chat_id}")
    last = bob.locator(".message-row.theirs").last
    said = last.locator(".message-text").inner_text()
    last.get_by_role("link", name="Reply", exact=False).click()
    expect(bob.locator("#reply-quote")).to_contain_text(f"Replying to Alice Appleton: {said[:20]}")
    box = bob.get_by_role("textbox", name="Message", exact=True)
    box.fill("Answered without script")
    bob.get_by_role("button", name="Send").click()
    bob.goto(f"/chats/{chat_id}")
    expect(row(bob, "Answered without script").locator("blockquote")).to_contain_text(said[:20])
    # The original, from its quote: the chat again, at it.
    row(bob, "Answered without script").get_by_role("link", name="Go to the original").click()
    expect(bob.locator(".message-row", has_text=said).last).to_be_in_viewport()
