"""Two people, two browsers: find, start a chat, send text and an image, read it."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    assert_accessible,
    chat_link,
    connected,
    send_message,
    start_chat,
    two_people,
    wait_until,
)

pytestmark = pytest.mark.browser


def test_alice_finds_bob_and_they_chat(new_page, live, app, picture):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app)
    start_chat(alice, bob_name)
    send_message(alice, "Look at this sunset!", picture, "An orange sky over the sea")
    log = alice.get_by_role("log", name="Messages")
    expect(log.get_by_text("Look at this sunset!")).to_be_visible()
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_have_value("")  # the form is cleared at once
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    expect(log.get_by_text(re.compile("^(Sending|Sent)$"))).to_be_visible()

    bob.reload()
    expect(chat_link(bob, alice_name)).to_contain_text("1 unread")
    chat_link(bob, alice_name).click()
    bob_log = bob.get_by_role("log", name="Messages")
    expect(bob_log.get_by_text("Look at this sunset!")).to_be_visible()
    image = bob_log.get_by_role("img", name="An orange sky over the sea")
    expect(image).to_be_visible()
    wait_until(bob, "document.querySelector('#log .message-image img')?.complete")  # lazy: it loads once in view
    assert image.evaluate("img => img.naturalWidth") == 640
    expect(chat_link(bob, alice_name)).not_to_contain_text("unread")

    alice.reload()
    expect(alice.get_by_role("log", name="Messages").get_by_text("Seen")).to_be_visible()


def test_the_same_journey_without_javascript(new_page, live, app, picture):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app, java_script_enabled=False)
    start_chat(alice, bob_name)
    send_message(alice, "", None)
    expect(alice.get_by_text("Write a message or attach an image.")).to_be_visible()
    send_message(alice, "Plain old forms", picture, "")
    expect(alice).to_have_url(re.compile(r"/chats/[0-9a-f]{24}#composer$"))
    expect(alice.get_by_role("log", name="Messages").get_by_text("Plain old forms")).to_be_visible()

    bob.reload()
    expect(chat_link(bob, alice_name)).to_contain_text("1 unread")
    chat_link(bob, alice_name).click()
    expect(bob.get_by_role("img", name=f"Image from {alice_name}, no description")).to_be_visible()
    alice.reload()
    expect(alice.get_by_role("log", name="Messages").get_by_text("Seen")).to_be_visible()


def test_load_earlier_messages_keeps_focus(new_page, live, app):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app)
    start_chat(alice, bob_name)
    connected(alice)  # the composer's script has run: an Enter before it is a new line, not a send
    message = alice.get_by_role("textbox", name="Message", exact=True)
    for n in range(55):
        message.fill(f"note {n}")
        alice.keyboard.press("Enter")
        expect(alice.get_by_role("log").get_by_text(f"note {n}", exact=True)).to_be_visible()
        # Emptied once the request is over: an Enter before that is dropped (hx-sync "drop").
        expect(message).to_have_value("")
    last = alice.get_by_role("log").locator(".message-row", has_text="note 54").locator(".message-status")
    expect(last).to_have_text("Sent", timeout=30_000)  # all 55 saved
    alice.reload()
    log = alice.get_by_role("log", name="Messages")
    expect(log.get_by_text("note 54", exact=True)).to_be_visible()
    expect(log.get_by_text("note 4", exact=True)).to_have_count(0)
    button = alice.get_by_role("button", name="Load earlier messages")
    button.focus()
    alice.keyboard.press("Enter")
    expect(log.get_by_text("note 4", exact=True)).to_have_count(1)
    start = alice.get_by_text(f"This is the start of your conversation with {bob_name}.")
    expect(start).to_be_focused()
    texts = log.locator(".message-text").all_inner_texts()
    assert texts == [f"note {n}" for n in range(55)]


def test_new_chat_chat_list_and_chat_pages_have_no_axe_violations(new_page, live, app, picture):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app)
    alice.get_by_role("link", name="New chat").click()
    assert_accessible(alice)  # empty search
    alice.get_by_label("Search people").fill("zzzz-nobody")
    expect(alice.get_by_text("No one found for “zzzz-nobody”.")).to_be_visible()
    assert_accessible(alice)
    alice.get_by_label("Search people").fill(f"{bob_name}@example.com")  # a stranger: by their whole address
    expect(alice.get_by_role("button", name=f"Chat with {bob_name}")).to_be_visible()
    assert_accessible(alice)
    alice.get_by_role("button", name=f"Chat with {bob_name}").click()
    expect(alice.get_by_role("heading", level=1, name=bob_name)).to_be_visible()
    assert_accessible(alice)  # an empty chat
    send_message(alice, "")
    expect(alice.get_by_role("alert").filter(has_text="Write a message or attach an image.")).to_be_visible()
    assert_accessible(alice)  # with an error shown
    send_message(alice, "Hello there", picture, "Orange")
    expect(alice.get_by_role("log").get_by_text("Hello there")).to_be_visible()
    send_message(alice, "Second line\nwith a break")
    assert_accessible(alice)  # a full chat
    bob.reload()
    expect(chat_link(bob, alice_name)).to_contain_text("2 unread")
    assert_accessible(bob)  # the chat list with unread counts
    chat_link(bob, alice_name).click()
    expect(bob.get_by_role("img", name="Orange")).to_be_visible()
    assert_accessible(bob)


def test_message_text_is_shown_as_text(new_page, live, app):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app)
    start_chat(alice, bob_name)
    send_message(alice, '<img src=x onerror="window.owned=1"><script>window.owned=2</script> مرحبا')
    bob.reload()
    chat_link(bob, alice_name).click()
    text = bob.get_by_role("log").locator(".message-text")
    expect(text).to_have_text('<img src=x onerror="window.owned=1"><script>window.owned=2</script> مرحبا')
    expect(text).to_have_attribute("dir", "auto")
    assert bob.evaluate("window.owned") is None
