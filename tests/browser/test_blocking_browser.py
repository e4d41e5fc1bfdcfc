"""Blocking from a chat (issue 26): the chat stays open and says so where
the composer was, with Unblock right there; the blocked person's open page
stops showing the blocker's presence at once; the chat's options menu
closes as menus do."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    LIGHT_AND_DARK,
    assert_accessible,
    assert_accessible_in_every_scheme,
    chat_link,
    connected,
    shoot,
    watch_console,
)
from tests.support.conversation import open_as

pytestmark = pytest.mark.browser


def expanded(page, name):
    """What Chromium tells assistive technology of the button `name`: expanded or not (a popover's
    button has no aria-expanded attribute, which is all Playwright's role selector reads)."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    button = next(node for node in nodes if node.get("name", {}).get("value") == name)
    return next(prop["value"]["value"] for prop in button["properties"] if prop["name"] == "expanded")


def block_from_the_chat(page):
    page.get_by_label("Options for Bob Okafor").click()
    page.get_by_role("button", name="Block Bob Okafor").click()
    expect(page.get_by_role("heading", level=1, name="Block Bob Okafor?")).to_be_visible()
    page.get_by_role("button", name="Block Bob Okafor").click()


SIZES = {
    "320x640": {"viewport": {"width": 320, "height": 640}},
    "1280x800": {"viewport": {"width": 1280, "height": 800}},
    "1280x800-at-400": {"viewport": {"width": 320, "height": 200}, "device_scale_factor": 4},
}


# 7. A chat you blocked stays open: "You blocked NAME · Unblock" instead of the message box.
@pytest.mark.parametrize("size", SIZES)
def test_blocking_keeps_you_in_the_chat_with_unblock_where_the_composer_was(new_page, live, day_of_talk, size):
    _, alice_cookies, _, _, chat_id = day_of_talk
    page = open_as(new_page, live, alice_cookies, **SIZES[size])
    errors = watch_console(page)
    page.goto(f"/chats/{chat_id}")
    block_from_the_chat(page)
    expect(page).to_have_url(re.compile(f"/chats/{chat_id}$"))
    expect(page.get_by_role("status").filter(has_text="You blocked Bob Okafor.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_have_count(0)
    bar = page.locator("#blocked")
    expect(bar.get_by_role("paragraph")).to_have_text("You blocked Bob Okafor.")
    unblock = bar.get_by_role("button", name="Unblock Bob Okafor")
    expect(unblock).to_be_visible()
    expect(page.get_by_label("Options for Bob Okafor")).to_have_count(0)
    unblock.scroll_into_view_if_needed()
    assert_accessible_in_every_scheme(page, f"chat-blocked-stays-{size}")
    unblock.click()
    expect(page).to_have_url(re.compile(f"/chats/{chat_id}#composer$"))
    expect(page.get_by_role("status").filter(has_text="You unblocked Bob Okafor.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_visible()
    assert_accessible(page)
    shoot(page, f"chat-unblocked-{size}", LIGHT_AND_DARK)
    assert errors == []


# 8. The blocked person's open page stops showing the blocker "Online" at once, and shows it again after an unblock.
def test_a_block_hides_the_blockers_presence_from_the_open_page_at_once(new_page, live, day_of_talk):
    _, alice_cookies, _, bob_cookies, chat_id = day_of_talk
    alice = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    bob = open_as(new_page, live, bob_cookies, viewport={"width": 1280, "height": 800})
    for page in (alice, bob):
        page.goto(f"/chats/{chat_id}")
        connected(page)
    status = bob.locator(".presence-status")
    entry = chat_link(bob, "Alice Appleton")
    expect(status).to_have_text("Online", use_inner_text=True)
    expect(entry).to_have_accessible_name(re.compile("online"))
    block_from_the_chat(alice)
    expect(alice.get_by_role("status").filter(has_text="You blocked Bob Okafor.")).to_be_visible()
    expect(status).to_have_text("Offline", use_inner_text=True)  # as a reload shows it: nothing more
    expect(entry).not_to_have_accessible_name(re.compile("online"))
    shoot(bob, "chat-blocked-by-the-other", LIGHT_AND_DARK)
    alice.get_by_role("button", name="Unblock Bob Okafor").click()
    expect(status).to_have_text("Online", use_inner_text=True)
    expect(entry).to_have_accessible_name(re.compile("online"))
    expect(alice.get_by_role("textbox", name="Message", exact=True)).to_be_visible()
    connected(alice)  # her page back in the chat before the test's pages close


# 11. The options menu closes on Escape (focus back on its button) and on a click outside.
def test_the_chat_options_close_on_escape_and_a_click_outside(new_page, live, day_of_talk):
    _, alice_cookies, _, _, chat_id = day_of_talk
    page = open_as(new_page, live, alice_cookies, viewport={"width": 320, "height": 640})
    page.goto(f"/chats/{chat_id}")
    options = page.get_by_label("Options for Bob Okafor")
    block = page.get_by_role("button", name="Block Bob Okafor")
    options.focus()
    page.keyboard.press("Enter")
    expect(block).to_be_visible()
    page.keyboard.press("Tab")
    expect(block).to_be_focused()  # the menu comes next in the keyboard order
    menu = block.bounding_box()
    header = page.locator(".chat-header").bounding_box()
    assert menu["x"] + menu["width"] <= 320 and menu["y"] >= header["y"] + header["height"] - 8  # under its button
    assert_accessible(page)
    shoot(page, "chat-options-menu-320", LIGHT_AND_DARK)
    page.keyboard.press("Escape")
    expect(block).to_be_hidden()
    expect(options).to_be_focused()
    options.click()
    expect(block).to_be_visible()
    assert expanded(page, "Options for Bob Okafor") is True
    page.get_by_role("log", name="Messages").click(position={"x": 10, "y": 10})
    expect(block).to_be_hidden()
    assert expanded(page, "Options for Bob Okafor") is False
