"""Editing and deleting your own messages, two people in two browsers, with
and without JavaScript: an edit shows "Edited" live on the other page and is
not announced as a new message; its earlier versions can be read by both; a
delete leaves "Message deleted" for both and removes the image file; Up arrow
and Escape in the composer; every new state axe-clean, and looked at."""

import os
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import (
    LIGHT_AND_DARK,
    assert_accessible,
    chat_link,
    connected,
    listen_to_live_regions,
    send_message,
    shoot,
    spoken,
)
from tests.support.conversation import open_as, person

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 800}


@pytest.fixture
def picture(tmp_path):
    path = tmp_path / "map.png"
    Image.new("RGB", (640, 480), (40, 120, 250)).save(path)
    return path


def chat_between(new_page, live, app, java_script=True, listen=False):
    """Alice and Bob, each on a page of their chat: (alice page, bob page, chat id, alice's name)."""
    from app.data import chats

    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    with app.app_context():
        chat_id = str(chats.open_between(alice["_id"], bob["_id"])["_id"])
    pages = []
    for cookies in (alice_cookies, bob_cookies):
        page = open_as(new_page, live, cookies, java_script_enabled=java_script, viewport=WIDE)
        if listen:
            listen_to_live_regions(page)
        page.goto(f"/chats/{chat_id}")
        if java_script:
            connected(page)
        pages.append(page)
    return pages[0], pages[1], chat_id, "Alice Appleton"


def message(page, text):
    """The message (an article) in the log that says `text`."""
    return page.get_by_role("log", name="Messages").get_by_role("article").filter(has_text=text)


def open_until(page, url, locator, timeout=10):
    """Without a live connection a change shows on a page loaded after the worker applied it."""
    deadline = time.monotonic() + timeout
    page.goto(url)
    while not locator.count():
        assert time.monotonic() < deadline, f"{url} never showed {locator}"
        time.sleep(0.1)
        page.goto(url)


def shoot_both_sizes(page, name):
    for label, size in (("320", NARROW), ("1280", WIDE)):
        page.set_viewport_size(size)
        shoot(page, f"{name}-{label}", LIGHT_AND_DARK)
    page.set_viewport_size(WIDE)


def test_an_edit_shows_edited_live_for_both_without_announcing_a_new_message(new_page, live, app):
    alice, bob, chat_id, alice_name = chat_between(new_page, live, app, listen=True)
    send_message(alice, "See you at 5")
    expect(bob.locator(f"#announcements-{chat_id}")).to_have_text(f"{alice_name}: See you at 5")
    expect(message(alice, "See you at 5").get_by_role("link", name="Edit")).to_be_visible()  # saved

    message(alice, "See you at 5").get_by_role("link", name="Edit").click()
    box = alice.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_have_value("See you at 5")
    expect(box).to_be_focused()
    expect(alice.get_by_text("Editing your message")).to_be_visible()
    expect(alice.get_by_role("button", name="Save")).to_be_visible()
    assert_accessible(alice)
    shoot_both_sizes(alice, "edit-in-composer")
    box.fill("See you at 6")
    box.press("Enter")

    for page in (alice, bob):
        edited = message(page, "See you at 6")
        expect(edited.get_by_text("Edited", exact=True)).to_be_visible()  # live: no reload
        expect(page.get_by_role("log").get_by_text("See you at 5")).to_be_hidden()  # behind "Edited"
        edited.get_by_text("Edited", exact=True).click()
        versions = edited.get_by_role("list", name="Earlier versions")
        expect(versions).to_contain_text("See you at 5")
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_have_value("")
    expect(alice.get_by_role("button", name="Send")).to_be_visible()
    expect(bob.locator(f"#announcements-{chat_id}")).to_have_text(f"{alice_name}: See you at 5")  # not again
    assert not [said for said in spoken(bob) if "See you at 6" in said or "New message" in said]
    assert_accessible(alice)
    assert_accessible(bob)
    expect(message(bob, "See you at 6").get_by_role("link", name="Edit")).to_have_count(0)  # only the author's
    shoot_both_sizes(bob, "edited-message")
    shoot_both_sizes(alice, "edited-message-own")


def test_up_arrow_edits_your_last_message_and_escape_cancels_by_keyboard_alone(new_page, live, app):
    alice, bob, chat_id, _ = chat_between(new_page, live, app)
    send_message(alice, "first")
    send_message(alice, "secnod")
    expect(message(alice, "secnod").get_by_role("link", name="Edit")).to_be_visible()
    box = alice.get_by_role("textbox", name="Message", exact=True)
    box.fill("a draft")
    box.press("ArrowUp")  # not empty: an ordinary arrow
    expect(box).to_have_value("a draft")
    box.fill("")
    box.press("ArrowUp")
    expect(box).to_have_value("secnod")
    expect(alice.get_by_text("Editing your message")).to_be_visible()
    box.press("Escape")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(alice.get_by_text("Editing your message")).to_be_hidden()
    expect(alice.get_by_role("button", name="Send")).to_be_visible()
    box.press("ArrowUp")
    box.press("End")
    box.press("Backspace")
    box.press("Backspace")
    box.press("Backspace")
    box.press_sequentially("ond")
    box.press("Enter")
    expect(message(bob, "second").get_by_text("Edited", exact=True)).to_be_visible()
    # Each message's actions are reached by Tab, not hover: Edit on the first message, by keyboard.
    edit_first = message(alice, "first").get_by_role("link", name="Edit")
    edit_first.focus()
    expect(edit_first).to_be_focused()
    alice.keyboard.press("Enter")
    expect(box).to_have_value("first")
    expect(box).to_be_focused()
    alice.get_by_role("link", name="Cancel edit").click()
    expect(box).to_have_value("")


def test_a_delete_asks_once_then_leaves_message_deleted_for_both_and_removes_the_image(
    new_page, live, app, picture, base_env
):
    alice, bob, chat_id, alice_name = chat_between(new_page, live, app)
    send_message(alice, "the plan", picture, "A map of the route")
    expect(bob.get_by_role("img", name="A map of the route")).to_be_visible()
    expect(message(alice, "the plan").get_by_role("link", name="Delete")).to_be_visible()  # saved
    folder = os.path.join(base_env["UPLOAD_DIR"], chat_id)
    assert len(os.listdir(folder)) == 1  # the image (small enough to need no thumbnail)

    message(alice, "the plan").get_by_role("link", name="Delete").click()
    question = alice.get_by_text("Delete this message for both of you?")
    expect(question).to_be_visible()
    confirm = message(alice, "the plan").get_by_role("button", name="Delete")
    expect(confirm).to_be_focused()
    assert_accessible(alice)
    shoot_both_sizes(alice, "delete-confirm-in-place")
    alice.keyboard.press("Escape")  # changed their mind: asked again next time
    expect(question).to_be_hidden()
    expect(message(alice, "the plan").get_by_role("link", name="Delete")).to_be_focused()
    alice.keyboard.press("Enter")
    expect(confirm).to_be_focused()
    alice.keyboard.press("Enter")

    for page in (alice, bob):
        expect(page.get_by_role("log").get_by_text("Message deleted")).to_be_visible()
        expect(page.get_by_role("log").get_by_text("the plan")).to_have_count(0)
        expect(page.get_by_role("img", name="A map of the route")).to_have_count(0)
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    assert os.listdir(folder) == []
    expect(chat_link(bob, alice_name)).to_contain_text("Message deleted")
    expect(chat_link(alice, "Bob Okafor")).to_contain_text("You: Message deleted")
    assert_accessible(alice)
    assert_accessible(bob)
    shoot_both_sizes(bob, "deleted-message")


def test_the_pages_without_javascript_edit_and_delete_use_are_axe_clean(new_page, live, app):
    """axe needs a script to run: the same pages, loaded where it can."""
    alice, _, chat_id, _ = chat_between(new_page, live, app)
    send_message(alice, "Check me")
    edit = message(alice, "Check me").get_by_role("link", name="Edit")
    expect(edit).to_be_visible()
    alice.goto(edit.get_attribute("href"))  # the chat, its composer editing the message
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_have_value("Check me")
    expect(alice.get_by_role("button", name="Save")).to_be_visible()
    assert_accessible(alice)
    alice.get_by_role("link", name="Cancel edit").click()  # with the script, in place
    expect(alice.get_by_role("button", name="Send")).to_be_visible()
    alice.goto(message(alice, "Check me").get_by_role("link", name="Delete").get_attribute("href"))
    expect(alice.get_by_role("heading", name="Delete this message?")).to_be_visible()
    assert_accessible(alice)


def test_without_javascript_edit_and_delete_work_as_plain_forms(new_page, live, app):
    alice, bob, chat_id, _ = chat_between(new_page, live, app, java_script=False)
    send_message(alice, "Plain and simple")
    expect(alice).to_have_url(re.compile(r"#composer$"))
    alice.reload()
    message(alice, "Plain and simple").get_by_role("link", name="Edit").click()
    expect(alice).to_have_url(re.compile(r"/edit#composer$"))
    box = alice.get_by_role("textbox", name="Message", exact=True)
    expect(box).to_have_value("Plain and simple")
    expect(alice.get_by_text("Editing your message")).to_be_visible()
    box.fill("")
    alice.get_by_role("button", name="Save").click()
    expect(alice.get_by_text("Write a message or attach an image.")).to_be_visible()  # still editing
    alice.get_by_role("textbox", name="Message", exact=True).fill("Plain and edited")
    alice.get_by_role("button", name="Save").click()
    expect(alice).to_have_url(re.compile(rf"/chats/{chat_id}#m-[0-9a-f]{{32}}$"))
    for page in (alice, bob):
        open_until(page, f"/chats/{chat_id}", message(page, "Plain and edited"))
        expect(message(page, "Plain and edited").get_by_text("Edited", exact=True)).to_be_visible()
        message(page, "Plain and edited").get_by_text("Edited", exact=True).click()
        expect(message(page, "Plain and edited").get_by_role("list", name="Earlier versions")).to_contain_text(
            "Plain and simple"
        )

    message(alice, "Plain and edited").get_by_role("link", name="Delete").click()
    expect(alice.get_by_role("heading", name="Delete this message?")).to_be_visible()
    shoot_both_sizes(alice, "delete-confirm-page")
    alice.get_by_role("button", name="Delete").click()
    for page in (alice, bob):
        open_until(page, f"/chats/{chat_id}", page.get_by_role("log").get_by_text("Message deleted"))
        expect(page.get_by_role("log").get_by_text("Plain and")).to_have_count(0)
