"""Live, in two browsers: messages, unread counts, receipts, typing, presence."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId
from playwright.sync_api import expect

from tests.support.browser import (
    assert_accessible,
    chat_link,
    connected,
    send_message,
    signed_in_page,
    two_people,
    user_id,
    wait_until,
)
from tests.support.people import unique_email

pytestmark = pytest.mark.browser

# Makes the page believe WebSockets are blocked (as behind some proxies).
NO_WEBSOCKETS = "window.WebSocket = function () { throw new Error('blocked by the network'); };"


def open_new_chat(app, alice, bob, bob_name):
    """Alice starts a chat with Bob (the people on these pages) as New chat's
    "Chat with" button does (POST /chats), and her page opens it."""
    from app.chats import actions

    with app.test_request_context():
        chat, _ = actions.start(ObjectId(user_id(alice)), ObjectId(user_id(bob)))
    alice.goto(f"/chats/{chat['_id']}")
    expect(alice.get_by_role("heading", level=1, name=bob_name)).to_be_visible()


def open_chat_between(new_page, live, app, **options):
    alice, bob, alice_name, bob_name = two_people(new_page, live, app, **options)
    open_new_chat(app, alice, bob, bob_name)
    bob.reload()  # a new, empty chat shows up on the next page Bob loads
    expect(chat_link(bob, alice_name)).to_contain_text("No messages yet")
    return alice, bob, alice_name, bob_name


def test_a_message_appears_live_and_counts_as_unread_elsewhere(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    connected(bob)
    send_message(alice, "Are you there?")
    expect(chat_link(bob, alice_name)).to_contain_text("1 unread")  # Bob is on his home page
    expect(alice.get_by_role("log").get_by_text("Sent", exact=True)).to_be_visible()  # "Sending" became "Sent"
    send_message(alice, "Hello?")
    expect(chat_link(bob, alice_name)).to_contain_text("2 unread")
    first = bob.get_by_role("navigation", name="Chats").get_by_role("listitem").first.get_by_role("link")
    expect(first).to_have_accessible_name(re.compile(f"^{alice_name}"))
    chat_link(bob, alice_name).click()
    expect(alice.get_by_role("log").get_by_text("Seen")).to_have_count(2)  # live, no reload
    expect(chat_link(bob, alice_name)).not_to_contain_text("unread")
    connected(bob)
    send_message(alice, "There you are")
    expect(bob.get_by_role("log").get_by_text("There you are")).to_be_visible()
    expect(alice.get_by_role("log").get_by_text("Seen")).to_have_count(3)


def test_typing_shows_and_clears(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    chat_link(bob, alice_name).click()
    connected(alice)
    connected(bob)  # else its first "typing" can go before its socket is open (failed 1 in a full browser run)
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("hel", delay=50)
    typing = alice.locator(".typing")
    expect(typing).to_have_text(f"{bob_name} is typing…")
    assert typing.get_attribute("aria-live") == "polite"
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("lo", delay=50)
    bob.keyboard.press("Enter")  # sending clears it
    expect(typing).to_have_text("")
    expect(alice.get_by_role("log").get_by_text("hello")).to_be_visible()
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("again", delay=50)
    expect(typing).to_have_text(f"{bob_name} is typing…")
    bob.get_by_role("link", name="Profile").focus()  # leaving the field clears it
    expect(typing).to_have_text("")
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("x")
    expect(typing).to_have_text(f"{bob_name} is typing…")
    expect(typing).to_have_text("", timeout=8000)  # five quiet seconds clear it


def test_presence_is_live_and_the_heading_says_when_they_were_last_seen(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    status = alice.locator(".presence-status")
    expect(status).to_have_text("Online", use_inner_text=True)
    expect(chat_link(alice, bob_name)).to_contain_text("online")
    bob.close()
    expect(status).to_have_text(re.compile(r"^Last seen "), timeout=15_000, use_inner_text=True)
    expect(chat_link(alice, bob_name)).not_to_contain_text("online")


def test_only_the_other_persons_messages_are_announced(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    chat_link(bob, alice_name).click()
    connected(bob)
    send_message(alice, "Announce me")
    chat_id = alice.url.rsplit("/", 1)[1]
    expect(bob.locator(f"#announcements-{chat_id}")).to_have_text(f"{alice_name}: Announce me")
    expect(bob.locator(f"#announcements-{chat_id}")).to_have_attribute("aria-live", "polite")
    expect(alice.locator(f"#announcements-{chat_id}")).to_have_text("")
    log = bob.get_by_role("log", name="Messages")
    assert log.get_attribute("aria-live") == "off"  # receipts and presence never re-announce messages


def test_pushes_keep_focus_where_it_was(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    chat_link(bob, alice_name).click()
    connected(bob)
    draft = bob.get_by_role("textbox", name="Message", exact=True)
    draft.fill("half a thought")
    draft.focus()
    send_message(alice, "interrupting")
    expect(bob.get_by_role("log").get_by_text("interrupting")).to_be_visible()
    expect(draft).to_be_focused()
    expect(draft).to_have_value("half a thought")


def test_live_pages_have_no_axe_violations(new_page, live, app):
    alice, bob, alice_name, bob_name = open_chat_between(new_page, live, app)
    chat_link(bob, alice_name).click()
    connected(alice)
    connected(bob)  # else his typing can go before his socket is open (failed twice in a row on 4 processes)
    send_message(alice, "Live and accessible")
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("typing", delay=30)
    expect(alice.locator(".typing")).to_have_text(f"{bob_name} is typing…")
    expect(alice.get_by_role("log").get_by_text("Seen")).to_be_visible()
    assert_accessible(alice)
    assert_accessible(bob)


def test_the_same_without_websockets_over_server_sent_events(new_page, live, app):
    def new_page_without_websockets(**options):
        page = new_page(**options)
        page.context.add_init_script(NO_WEBSOCKETS)
        return page

    alice, bob, alice_name, bob_name = two_people(new_page_without_websockets, live, app)
    open_new_chat(app, alice, bob, bob_name)
    expect(alice.locator("[hx-sse\\:connect]")).to_have_count(1)  # it fell back
    connected(alice)
    send_message(alice, "Over events")
    expect(chat_link(bob, alice_name)).to_contain_text("1 unread")
    chat_link(bob, alice_name).click()
    expect(bob.get_by_role("log").get_by_text("Over events")).to_be_visible()
    expect(alice.get_by_role("log").get_by_text("Seen")).to_be_visible()
    connected(bob)
    bob.get_by_role("textbox", name="Message", exact=True).press_sequentially("hi", delay=50)
    expect(alice.locator(".typing")).to_have_text(f"{bob_name} is typing…")
    bob.keyboard.press("Enter")
    expect(alice.get_by_role("log").get_by_text("hi", exact=True)).to_be_visible()
    expect(bob.get_by_role("log").get_by_text("Seen")).to_be_visible()  # Alice has the chat open
    expect(alice.locator(".typing")).to_have_text("")


def test_after_a_web_restart_pages_reconnect_and_a_lost_session_goes_to_sign_in(browser, processes, app):
    web = processes.web()  # on the run's database and keys, with its secrets: `app`'s sessions are good here
    context = browser.new_context(base_url=web.url)
    context.set_default_timeout(10_000)
    page = signed_in_page(lambda: context.new_page(), web, app, unique_email("rex"))
    connected(page)
    page.evaluate("""() => document.getElementById('live').addEventListener(
        'htmx:ws:after:connection', () => { window.reconnectedAt = Date.now(); })""")
    web.stop()
    processes.web(port=web.port)
    wait_until(page, "window.reconnectedAt !== undefined", timeout=20)
    context.clear_cookies()  # signed out elsewhere: the next connection is refused with 4401
    processes.started[-1].stop()
    processes.web(port=web.port)
    expect(page).to_have_url(re.compile("/signin$"), timeout=20_000)
    context.close()


def refreshes_of(page):
    """A list that grows by one each time the page fetches itself again (htmx's GETs of its own address)."""
    refreshes = []

    def seen(asked):
        if asked.method == "GET" and asked.url == page.url and "hx-request" in asked.headers:
            refreshes.append(asked)

    page.on("request", seen)
    return refreshes


def assert_refreshed(page, refreshes, times):
    """The page has fetched itself `times` times (waiting up to 5 s for the last)."""
    for _ in range(50):
        if len(refreshes) >= times:
            break
        page.wait_for_timeout(100)
    assert len(refreshes) == times


def test_a_page_left_open_past_midnight_shows_itself_again(new_page, live, app):
    """Its "Today" and "Yesterday" would be a day out: once the reader's day
    changes, the page fetches its regions afresh (as after a long absence)."""
    page = signed_in_page(new_page, live, app, unique_email("owl"))
    zone = page.evaluate("document.documentElement.dataset.timeZone") or "UTC"
    page.clock.install(time=datetime.now(ZoneInfo(zone)).replace(hour=23, minute=57))
    page.reload()
    connected(page)
    refreshes = refreshes_of(page)
    page.clock.fast_forward("01:30")  # 23:58:30, the same day
    page.wait_for_timeout(500)
    assert not refreshes
    page.clock.fast_forward("02:00")  # 00:00:30, the next
    assert_refreshed(page, refreshes, 1)


def test_the_first_page_keeps_its_day_in_the_zone_it_learns(new_page, live, app):
    """A new person's first page is written in UTC until the script tells the
    server the browser's zone; from then on the page's own times follow that
    zone too, so its day ends at the reader's midnight, not at UTC's."""
    new_york = ZoneInfo("America/New_York")
    watched = []

    def new_page_at_ten_to_midnight(**options):
        page = new_page(timezone_id="America/New_York", **options)
        page.clock.install(time=datetime(2027, 1, 14, 23, 50, tzinfo=new_york))
        watched.append(refreshes_of(page))  # from before the first page loads
        return page

    page = signed_in_page(new_page_at_ten_to_midnight, live, app, unique_email("lark"))  # no zone yet
    refreshes = watched[0]
    wait_until(page, "document.documentElement.dataset.timeZone === 'America/New_York'")
    assert_refreshed(page, refreshes, 1)  # shown again in the zone it learned
    now = datetime.fromtimestamp(page.evaluate("Date.now()") / 1000, new_york)
    to_midnight = datetime(2027, 1, 15, tzinfo=new_york) - now
    page.clock.fast_forward(int(to_midnight.total_seconds() * 1000) - 60_000)  # 23:59 in New York, 04:59 UTC
    page.wait_for_timeout(500)
    assert len(refreshes) == 1
    page.clock.fast_forward(90_000)  # 00:00:30 in New York; still the 15th in UTC
    assert_refreshed(page, refreshes, 2)
