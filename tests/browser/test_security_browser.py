"""Signing out everywhere it should, "Opened elsewhere", and blocking, in Chromium."""

import re
import time

import pytest
from playwright.sync_api import expect

from app.realtime import presence
from tests.support import conversation
from tests.support.browser import (
    assert_accessible,
    assert_accessible_in_every_scheme,
    chat_link,
    connected,
    signed_in_page,
    start_chat,
    two_people,
)
from tests.support.live import SocketPage
from tests.support.people import unique_email

pytestmark = pytest.mark.browser


def cookies_of(page):
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def test_signing_out_in_one_tab_signs_out_the_other_within_a_second(new_page, live, app):
    first = signed_in_page(new_page, live, app, unique_email("ann"))
    second = first.context.new_page()  # another tab of the same browser
    second.goto("/profile")
    connected(first)
    connected(second)
    started = time.monotonic()
    first.get_by_role("button", name="Sign out", exact=True).click()
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible(timeout=1000)
    assert time.monotonic() - started < 1
    assert_accessible(second)
    second.goto("/")  # and it stays signed out
    expect(second.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_out_of_all_devices(new_page, live, app):
    email = unique_email("ann")  # two sessions of one person, each in a browser of its own
    laptop = signed_in_page(new_page, live, app, email)
    phone = signed_in_page(new_page, live, app, email)
    connected(phone)
    laptop.get_by_role("link", name="Profile").click()
    assert_accessible(laptop)
    laptop.get_by_role("button", name="Sign out of all devices").click()
    expect(laptop.get_by_text("You have signed out on all your devices.")).to_be_visible()
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible(timeout=1000)


def test_the_oldest_of_too_many_pages_says_opened_elsewhere_and_stays_put(new_page, live, app):
    page = signed_in_page(new_page, live, app, unique_email("ann"))
    connected(page)
    others = [SocketPage(live.url, cookies_of(page), page=f"other-{n}") for n in range(presence.PAGES_PER_PERSON)]
    for other in others:
        other.wait_until_attached()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Opened elsewhere.")
    expect(alert.get_by_role("link", name="Reload to use it here")).to_be_visible()
    time.sleep(2)  # long enough for a reconnect, which would take a place from another page
    assert page.evaluate("document.getElementById('live').dataset.state") == "elsewhere"
    assert all(other.close_code is None for other in others)
    assert_accessible(page)
    for other in others:
        other.close()


def test_block_asks_first_then_unblock_in_profile(new_page, live, app):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app)
    start_chat(alice, bob_name)
    alice.get_by_label(f"Options for {bob_name}").click()
    alice.get_by_role("button", name=f"Block {bob_name}").click()
    expect(alice.get_by_role("heading", name=f"Block {bob_name}?")).to_be_visible()
    assert_accessible(alice)
    alice.get_by_role("button", name=f"Block {bob_name}").click()
    expect(alice.get_by_role("status").filter(has_text=f"You blocked {bob_name}.")).to_be_visible()
    expect(chat_link(alice, bob_name)).to_have_count(0)
    alice.get_by_role("link", name="Profile").click()
    blocked = alice.get_by_role("list", name="Blocked people")
    expect(blocked).to_contain_text(bob_name)
    assert_accessible(alice)
    bob.reload()
    chat_link(bob, alice_name).click()
    bob.get_by_role("textbox", name="Message", exact=True).fill("Still there?")
    bob.get_by_role("button", name="Send").click()
    refused = bob.get_by_role("log").locator(".message-row", has_text="Still there?")  # the text stays
    expect(refused.locator(".failure-reason")).to_have_text(f"{alice_name} is not taking messages from you.")
    expect(refused.get_by_role("button", name="Retry")).to_have_count(0)  # a refusal: it cannot go
    expect(refused.get_by_role("button", name="Delete")).to_be_visible()
    blocked.get_by_role("button", name=f"Unblock {bob_name}").click()
    expect(alice.get_by_text(f"You unblocked {bob_name}.")).to_be_visible()
    expect(chat_link(alice, bob_name)).to_have_count(1)


def test_a_chats_options_fit_a_narrow_screen_and_a_block_says_so_where_the_chat_is(new_page, live, app):
    alice, alice_cookies = conversation.person(app, "alice", "Alice Appleton")
    bob, _ = conversation.person(app, "bob", "Bartholomew Featherstonehaugh-Cholmondeley")
    chat_id, _ = conversation.seed(app, alice, bob, days=1)
    page = conversation.open_as(new_page, live, alice_cookies, viewport={"width": 320, "height": 640})
    page.goto(f"/chats/{chat_id}")
    page.get_by_label(f"Options for {bob['name']}").click()
    block = page.get_by_role("button", name=f"Block {bob['name']}")
    expect(block).to_be_visible()
    menu = page.locator(".chat-options-menu").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= 320  # on the screen, not beyond its edge
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert_accessible_in_every_scheme(page, "chat-options-open-320")
    block.click()
    page.get_by_role("button", name=f"Block {bob['name']}").click()  # the page that asks first
    expect(page).to_have_url(re.compile(f"/chats/{chat_id}$"))  # back in the chat
    expect(page.get_by_text(f"You blocked {bob['name']}.", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=f"Unblock {bob['name']}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert_accessible_in_every_scheme(page, "chat-blocked-320")


def test_a_message_not_delivered_across_a_block_and_too_many_lookups_are_said_plainly(new_page, live, app):
    """Issue 30's new states: a send the chat worker would not deliver (a
    block came while it was on its way) and a person past their whole-address
    lookups; each announced where it shows, and axe-clean."""
    from app.chats import blocks
    from app.chats.sending import delivery
    from app.chats.sending.job import Job
    from app.people import search

    alice, alice_cookies = conversation.person(app, "alice", "Alice Appleton")
    bob, _ = conversation.person(app, "bob", "Bob Okafor")
    chat_id, _ = conversation.seed(app, alice, bob, days=1)
    page = conversation.open_as(new_page, live, alice_cookies)
    page.goto(f"/chats/{chat_id}")
    connected(page)
    with app.test_request_context():
        job = Job.new("c" * 32, chat_id, alice["_id"], "Are you there?")
        blocks.block(chat_id, bob["_id"], (alice["_id"], bob["_id"]))
        delivery.refuse([job], blocks.of_many([chat_id]))
    row = page.locator(f"#m-{job.client_id}")
    expect(row.get_by_text("Not delivered")).to_be_visible()
    expect(row.get_by_text("Bob Okafor is not taking messages from you.")).to_be_visible()
    assert_accessible_in_every_scheme(page, "message-not-delivered")

    with app.test_request_context():
        for n in range(30):
            search._count_address_lookup(f"someone{n}@example.com", alice["_id"])
    page.goto("/people")
    page.get_by_label("Search people").fill(bob["email"])
    expect(page.get_by_role("alert")).to_contain_text("You have looked up many email addresses")
    assert_accessible_in_every_scheme(page, "people-lookups-limited")
