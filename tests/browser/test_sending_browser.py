"""Sending as a newcomer expects (issue 26): what is written offline waits
and goes by itself, in order, once the connection is back; a refusal offers
Delete (or Unblock), never a Retry that cannot work; a retried message says
"Sent" once it went; "is typing…" ends when the box is emptied; and what a
screen reader hears over a whole conversation, printed for the note."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    LIGHT_AND_DARK,
    assert_accessible,
    assert_accessible_in_every_scheme,
    connected,
    listen_to_live_regions,
    shoot,
    spoken,
    watch_console,
)
from tests.support.conversation import open_as

pytestmark = pytest.mark.browser

WIDE = {"viewport": {"width": 1280, "height": 800}}
NARROW = {"viewport": {"width": 320, "height": 640}}
# What Chromium itself logs while the network is off (its socket's reconnection tries).
OFFLINE = re.compile("ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed")


def write(page, text):
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def saved(app, chat_id, text):
    from app.connections import db

    with app.app_context():
        return db().messages.count_documents({"chat_id": chat_id, "text": text})


def bubble(page, text):
    return page.get_by_role("log").locator(".message-row", has_text=text)


def both_open(new_page, live, day_of_talk, bob_size=WIDE):
    alice, alice_cookies, bob, bob_cookies, chat_id = day_of_talk
    alice_page = open_as(new_page, live, alice_cookies, **WIDE)
    bob_page = open_as(new_page, live, bob_cookies, **bob_size)
    for page in (alice_page, bob_page):
        listen_to_live_regions(page)
        page.goto(f"/chats/{chat_id}")
        connected(page)
    return alice_page, bob_page


# 4. Written offline: "Waiting for connection", then each goes by itself, in order, once, when it is back.
def test_messages_written_offline_wait_and_go_by_themselves_in_order(new_page, live, app, day_of_talk):
    chat_id = day_of_talk[4]
    alice_page, bob_page = both_open(new_page, live, day_of_talk, NARROW)
    errors = watch_console(bob_page)
    bob_page.context.set_offline(True)
    for text in ("Train is late", "Stuck at Central", "Start without me"):
        write(bob_page, text)
    for text in ("Train is late", "Stuck at Central", "Start without me"):
        expect(bubble(bob_page, text).locator(".message-status")).to_have_text("Waiting for connection")
        expect(bubble(bob_page, text).get_by_role("button", name="Retry")).to_have_count(0)
    expect(bob_page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    assert_accessible_in_every_scheme(bob_page, "chat-320-waiting-for-connection")
    bob_page.context.set_offline(False)  # nothing pressed: they go by themselves
    log = alice_page.get_by_role("log")
    for text in ("Train is late", "Stuck at Central", "Start without me"):
        expect(log.get_by_text(text)).to_be_visible(timeout=15_000)
        expect(bubble(bob_page, text).locator(".message-status")).to_have_text(re.compile("Sent|Seen"))
    texts = log.locator(".message-text").all_inner_texts()[-3:]
    assert texts == ["Train is late", "Stuck at Central", "Start without me"]
    time.sleep(0.5)
    assert all(saved(app, chat_id, text) == 1 for text in texts)
    said = spoken(bob_page)
    print("\nwhat Bob's screen reader said: " + " | ".join(said))
    assert said.count("Waiting for connection. Your messages will go when you are back online.") == 1, said
    assert said[-1] == "3 messages sent.", said
    assert [error for error in errors if not OFFLINE.search(error)] == []


# 6. A refusal offers Delete, not a Retry that cannot work; to the blocker, Unblock.
def test_a_refused_message_offers_delete_and_no_retry(new_page, live, app, day_of_talk, tmp_path):
    from app.chats import blocks

    alice, alice_cookies, bob, bob_cookies, chat_id = day_of_talk
    alice_page, bob_page = both_open(new_page, live, day_of_talk)
    not_a_picture = tmp_path / "holiday.png"
    not_a_picture.write_bytes(b"this is no PNG at all")
    bob_page.get_by_label("Attach image").set_input_files(not_a_picture)  # its name says PNG: only the server knows
    bob_page.get_by_role("button", name="Send").click()
    refused = bob_page.get_by_role("log").locator(".message-row.failed")
    expect(refused.locator(".message-status")).to_have_text("Not sent")
    expect(refused).to_contain_text("That file is not an image we can show.")
    expect(refused.get_by_role("button", name="Retry")).to_have_count(0)
    expect(refused.get_by_role("button", name="Delete")).to_be_visible()
    refused.get_by_role("button", name="Delete").click()
    expect(refused).to_have_count(0)

    with app.test_request_context():
        blocks.block(chat_id, alice["_id"], (alice["_id"], bob["_id"]))
    write(bob_page, "Are you there?")
    refused = bubble(bob_page, "Are you there?")
    expect(refused).to_contain_text("Alice Appleton is not taking messages from you.")
    expect(refused.get_by_role("button", name="Retry")).to_have_count(0)
    expect(refused.get_by_role("button", name="Delete")).to_be_visible()
    assert_accessible(bob_page)
    shoot(bob_page, "chat-refused-blocked", LIGHT_AND_DARK)

    write(alice_page, "Sorry, wrong chat")  # her page from before the block
    mine = bubble(alice_page, "Sorry, wrong chat")
    expect(mine).to_contain_text("You blocked Bob Okafor. Unblock them to send messages.")
    expect(mine.get_by_role("button", name="Retry")).to_have_count(0)
    unblock = mine.get_by_role("button", name="Unblock Bob Okafor")
    expect(unblock).to_be_visible()
    shoot(alice_page, "chat-refused-you-blocked", LIGHT_AND_DARK)
    unblock.click()  # the chat again, unblocked: the unsent message goes from there
    expect(alice_page.get_by_role("status").filter(has_text="You unblocked Bob Okafor.")).to_be_visible()
    expect(bob_page.get_by_role("log").get_by_text("Sorry, wrong chat")).to_be_visible()
    assert saved(app, chat_id, "Are you there?") == 0


# 22. After Retry a screen reader hears "Sending again." and then, once it went, "Sent."
def test_a_retried_message_says_sent_once_it_went(new_page, live, app, day_of_talk):
    chat_id = day_of_talk[4]
    alice_page, bob_page = both_open(new_page, live, day_of_talk)
    failing = {"left": 1}

    def unavailable_once(route):
        if route.request.method == "POST" and failing["left"]:
            failing["left"] -= 1
            return route.fulfill(status=503, body="Parley can't reach its services right now. Try again in a moment.")
        return route.continue_()

    bob_page.route("**/messages", unavailable_once)
    write(bob_page, "Lunch at one?")
    failed = bubble(bob_page, "Lunch at one?")
    retry = failed.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()
    retry.click()
    expect(alice_page.get_by_role("log").get_by_text("Lunch at one?")).to_be_visible()
    expect(failed.locator(".message-status")).to_have_text(re.compile("Sent|Seen"))
    time.sleep(0.5)
    said = spoken(bob_page)
    print("\nwhat Bob's screen reader said: " + " | ".join(said))
    at = said.index("Sending again.")
    assert said[at + 1 :].count("Sent.") == 1, said
    assert saved(app, chat_id, "Lunch at one?") == 1


# 15. "is typing…" ends as soon as the other person empties the box.
def test_typing_ends_when_the_box_is_emptied(new_page, live, day_of_talk):
    chat_id = day_of_talk[4]
    alice_page, bob_page = both_open(new_page, live, day_of_talk)
    box = bob_page.get_by_role("textbox", name="Message", exact=True)
    box.press_sequentially("I was going to say", delay=20)
    typing = alice_page.locator(f"#typing-{chat_id}")
    expect(typing).to_have_text("Bob Okafor is typing…")
    box.press("Control+a")
    box.press("Backspace")
    emptied = time.monotonic()
    expect(typing).to_have_text("", timeout=2_000)
    print(f"\nbox emptied -> 'is typing…' gone in {(time.monotonic() - emptied) * 1000:.0f} ms")
    box.press_sequentially("Never mind", delay=20)
    expect(typing).to_have_text("Bob Okafor is typing…")


def test_a_whole_conversation_heard_by_both(new_page, live, app, day_of_talk, tmp_path):
    """Two people day_of_talk, one send fails and is retried, one goes offline:
    what each page's live regions say, in order, and a console that stays
    empty while nothing fails."""
    from PIL import Image

    alice_page, bob_page = both_open(new_page, live, day_of_talk)
    alice_errors, bob_errors = watch_console(alice_page), watch_console(bob_page)
    bob_box = bob_page.get_by_role("textbox", name="Message", exact=True)
    bob_box.press_sequentially("Are we still on for tonight?", delay=10)
    expect(alice_page.locator(".typing")).to_have_text("Bob Okafor is typing…")
    bob_box.press("Enter")
    expect(alice_page.get_by_role("log").get_by_text("Are we still on for tonight?")).to_be_visible()
    write(alice_page, "Yes! See https://example.com/map for the place.")
    picture = tmp_path / "place.png"
    Image.new("RGB", (300, 200), (30, 120, 60)).save(picture)
    alice_page.get_by_label("Attach image").set_input_files(picture)
    alice_page.get_by_label("Image description").fill("The restaurant's door")
    alice_page.get_by_role("button", name="Send").click()
    expect(bob_page.get_by_role("log").get_by_role("img", name="The restaurant's door")).to_be_visible()
    write(bob_page, "Perfect, thanks")
    expect(alice_page.get_by_role("log").get_by_text("Perfect, thanks")).to_be_visible()
    expect(bubble(bob_page, "Perfect, thanks").locator(".message-status")).to_have_text("Seen")
    assert alice_errors == [] and bob_errors == []  # nothing failed: nothing logged

    failing = {"left": 1}

    def unavailable_once(route):
        if route.request.method == "POST" and failing["left"]:
            failing["left"] -= 1
            return route.fulfill(status=503, body="Parley can't reach its services right now. Try again in a moment.")
        return route.continue_()

    alice_page.route("**/messages", unavailable_once)
    write(alice_page, "Shall I book a table?")
    bubble(alice_page, "Shall I book a table?").get_by_role("button", name="Retry").click()
    expect(bob_page.get_by_role("log").get_by_text("Shall I book a table?")).to_be_visible()
    bob_page.context.set_offline(True)
    write(bob_page, "Yes please, for eight")
    bob_page.context.set_offline(False)
    expect(alice_page.get_by_role("log").get_by_text("Yes please, for eight")).to_be_visible(timeout=30_000)
    time.sleep(0.5)
    for name, page in (("Alice", alice_page), ("Bob", bob_page)):
        print(f"\nwhat {name}'s screen reader said, in order:\n  " + "\n  ".join(spoken(page)))
    assert [error for error in alice_errors if "503" not in error] == []
    assert [error for error in bob_errors if not OFFLINE.search(error)] == []
