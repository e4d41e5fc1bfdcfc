"""What people rely on in a chat (issue 15): failed sends that say so and can
be retried, the connection's state, where unread messages start, drafts,
news from other chats, focus that stays put, and all of it without JavaScript
where it can be. Prints the times it measures."""

import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    assert_accessible,
    assert_accessible_in_every_scheme,
    chat_link,
    connected,
    listen_to_live_regions,
    shoot,
    spoken,
    wait_until,
    watch_console,
)
from tests.support.conversation import open_as, person, seed
from tests.support.people import session_cookies

pytestmark = pytest.mark.browser


def messages_saved(app, chat_id, text):
    from app.connections import db

    with app.app_context():
        return db().messages.count_documents({"chat_id": chat_id, "text": text})


def write(page, text):
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def test_a_send_written_offline_waits_and_goes_once_when_the_connection_is_back(new_page, live, app, day_of_talk):
    alice, alice_cookies, bob, bob_cookies, chat_id = day_of_talk
    bob_page = open_as(new_page, live, bob_cookies, viewport={"width": 1280, "height": 800})
    alice_page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    listen_to_live_regions(bob_page)
    for page in (bob_page, alice_page):
        page.goto(f"/chats/{chat_id}")
        connected(page)
    bob_page.context.set_offline(True)
    pressed = time.monotonic()
    write(bob_page, "Are you there?")
    bubble = bob_page.get_by_role("log").locator(".message-row", has_text="Are you there?")
    expect(bubble.get_by_text("Waiting for connection")).to_be_visible(timeout=5_000)
    print(f"\npress Send offline -> 'Waiting for connection' in {(time.monotonic() - pressed) * 1000:.0f} ms")
    expect(bubble.get_by_role("button", name="Retry")).to_have_count(0)  # it goes by itself
    expect(bob_page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    expect(bob_page.locator("#connection-status")).to_have_text("Reconnecting…")
    expect(bob_page.locator(".presence-status")).to_have_text("Unknown", use_inner_text=True)
    assert "Waiting for connection. Your messages will go when you are back online." in spoken(bob_page)
    assert_accessible_in_every_scheme(bob_page, "chat-waiting-offline")
    bob_page.context.set_offline(False)
    back = time.monotonic()
    expect(bubble.locator(".message-status")).to_have_text("Seen")  # Alice has the chat open
    print(f"back online -> 'Seen' in {(time.monotonic() - back) * 1000:.0f} ms")
    expect(alice_page.get_by_role("log").get_by_text("Are you there?")).to_be_visible()
    expect(bob_page.locator("#connection-status")).to_have_text("")
    time.sleep(1)
    assert messages_saved(app, chat_id, "Are you there?") == 1
    print("what Bob's screen reader said: " + " | ".join(spoken(bob_page)))


def test_messages_still_on_their_way_when_the_page_goes_are_sent_from_the_next(new_page, live, app, day_of_talk):
    alice, alice_cookies, bob, bob_cookies, chat_id = day_of_talk
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    page.goto(f"/chats/{chat_id}")
    page.route("**/messages", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    for n in range(5):
        write(page, f"queued {n}")  # none leaves: the network refuses them
    expect(page.get_by_role("log").get_by_text("Not sent")).to_have_count(5)
    page.unroute("**/messages")
    page.reload()  # a new page sends them, in order, each once
    log = page.get_by_role("log")
    for n in range(5):
        expect(log.locator(".message-row", has_text=f"queued {n}").locator(".message-status")).to_have_text(
            re.compile("Sent|Seen"), timeout=15_000
        )
    time.sleep(0.5)
    page.reload()
    texts = log.locator(".message-text").all_inner_texts()
    assert [text for text in texts if text.startswith("queued")] == [f"queued {n}" for n in range(5)]
    assert all(messages_saved(app, chat_id, f"queued {n}") == 1 for n in range(5))
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.includes(':outbox:'))") == []


def test_a_send_the_broker_refuses_says_not_sent_and_retry_after_recovery_lands_once(
    browser, app, processes, private_rabbit
):
    alice_user, alice_cookies = person(app, "alice", "Alice Appleton")
    bob_user, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice_user, bob_user, days=1)
    rabbit = private_rabbit  # left running, as it found it
    processes.env["RABBITMQ_URL"] = rabbit.url
    try:
        web = processes.web()
        processes.worker("chat")
        context = browser.new_context(base_url=web.url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        context.add_cookies([{"name": k, "value": v, "url": web.url} for k, v in bob_cookies.items()])
        page = context.new_page()
        page.goto(f"/chats/{chat_id}")
        rabbit.stop()
        pressed = time.monotonic()
        write(page, "Through a broken broker")
        bubble = page.get_by_role("log").locator(".message-row", has_text="Through a broken broker")
        expect(bubble.get_by_text("Not sent")).to_be_visible(timeout=5_000)
        print(f"\nSend refused (503) -> 'Not sent' in {(time.monotonic() - pressed) * 1000:.0f} ms")
        expect(bubble).to_contain_text("Parley can't reach its services right now. Try again in a moment.")
        rabbit.start()
        for _ in range(20):  # the publisher reconnects on its next try
            with page.expect_response(lambda response: response.url.endswith("/messages")) as answer:
                bubble.get_by_role("button", name="Retry").click()
            if answer.value.status == 200:
                break
            expect(bubble.get_by_role("button", name="Retry")).to_be_visible()
        # Accepted: the chat worker delivers it once its own wait for the broker is over.
        expect(bubble.locator(".message-status")).to_have_text(re.compile("Sent|Seen"), timeout=40_000)
        assert messages_saved(app, chat_id, "Through a broken broker") == 1
        context.close()
    finally:
        processes.stop_all()
        if not rabbit.process.alive():  # as it found it, for the next test
            rabbit.start()


def test_reconnecting_is_said_once_and_what_was_missed_is_replayed(browser, app, processes, day_of_talk):
    from app.chats.sending.job import Job
    from tests.support.queues import publish

    alice, alice_cookies, bob, _, chat_id = day_of_talk
    web = processes.web()
    context = browser.new_context(base_url=web.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    context.add_init_script(
        "document.addEventListener('htmx:ws:close', () => { window.droppedAt ??= Date.now(); });"
        "document.addEventListener('htmx:ws:after:connection', () => { window.openedAt = Date.now(); });"
    )
    context.add_cookies([{"name": k, "value": v, "url": web.url} for k, v in alice_cookies.items()])
    page = context.new_page()
    errors = watch_console(page)
    listen_to_live_regions(page)
    page.goto(f"/chats/{chat_id}")
    connected(page)
    presence = page.locator(".presence-status")
    web.stop()
    expect(page.locator("#connection-status")).to_have_text("Reconnecting…")
    expect(presence).to_have_text("Unknown", use_inner_text=True)
    reconnecting = next(e for e in page.evaluate("window.spoken") if e["text"] == "Reconnecting…")
    print(f"\nsocket dropped -> 'Reconnecting…' in {reconnecting['at'] - page.evaluate('window.droppedAt')} ms")
    assert_accessible_in_every_scheme(page, "chat-reconnecting")
    job = Job.new(uuid.uuid4().hex, chat_id, bob["_id"], "Sent while you were away").fields()
    publish(app, "chat:messages", job)  # the worker saves and pushes it; the page is not there to hear
    time.sleep(2)  # a few reconnection tries while the web process is down
    processes.web(port=web.port)
    back = time.monotonic()
    log = page.get_by_role("log")
    expect(log.get_by_text("Sent while you were away")).to_be_visible(timeout=20_000)
    print(
        f"web process back -> missed message replayed in {(time.monotonic() - back) * 1000:.0f} ms "
        f"({page.evaluate('Date.now() - window.openedAt')} ms after the socket reopened)"
    )
    expect(page.locator("#connection-status")).to_have_text("")
    expect(presence).not_to_have_text("Unknown", use_inner_text=True)
    said = spoken(page)
    print("what Alice's screen reader said: " + " | ".join(said))
    assert said.count("Reconnecting…") == 1, said
    outage = re.compile("ws:error|WebSocket|ERR_CONNECTION_REFUSED")  # tries while the web process was down
    assert [text for text in errors if not outage.search(text)] == []
    context.close()


def test_a_chat_with_68_unread_opens_at_the_first_of_them(new_page, live, app):
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1, extra=68, unread_for=alice, unread=68)
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    page.goto("/")
    expect(chat_link(page, "Bob Okafor")).to_contain_text("68 unread")
    expect(page).to_have_title("(68) Chats · Parley")
    chat_link(page, "Bob Okafor").click()
    divider = page.get_by_role("heading", name="68 new messages")
    expect(divider).to_be_in_viewport()
    after = page.evaluate("document.getElementById('unread').nextElementSibling.textContent")
    assert "News 1" in after and "News 10" not in after  # right above the first unread message
    expect(page.get_by_role("log").get_by_text("News 1", exact=True)).to_be_in_viewport()
    expect(page.get_by_role("textbox", name="Message", exact=True)).to_be_focused()
    expect(page).to_have_title("\u2068Bob Okafor\u2069 · Parley")  # read now (the name isolated)
    assert_accessible_in_every_scheme(page, "chat-unread-divider")

    dan, _ = person(app, "dan", "Dan Duarte")
    seed(app, alice, dan, days=1, extra=3, unread_for=alice, unread=3)
    plain = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    plain.goto("/")
    link = chat_link(plain, "Dan Duarte")
    assert link.get_attribute("href").endswith("#unread")
    link.click()
    expect(plain.get_by_role("heading", name="3 new messages")).to_be_in_viewport()


def test_jump_to_latest_when_new_messages_arrive_while_reading_back(new_page, live, day_of_talk):
    alice, alice_cookies, bob, bob_cookies, chat_id = day_of_talk
    alice_page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    bob_page = open_as(new_page, live, bob_cookies, viewport={"width": 1280, "height": 800})
    for page in (alice_page, bob_page):
        page.goto(f"/chats/{chat_id}")
        connected(page)
    log = alice_page.get_by_role("log", name="Messages")
    alice_page.evaluate("document.getElementById('log').scrollTop = -600")
    anchor = log.get_by_text("Talk later?")
    top = anchor.bounding_box()["y"]
    write(bob_page, "Are you reading?")
    write(bob_page, "Look down")
    jump = alice_page.get_by_role("button", name="Jump to latest")
    expect(jump).to_have_accessible_name("Jump to latest (2 new)")
    assert abs(anchor.bounding_box()["y"] - top) < 2  # what she reads stays where it was
    assert_accessible_in_every_scheme(alice_page, "chat-jump-to-latest")
    jump.click()
    expect(jump).to_be_hidden()
    expect(log.get_by_text("Look down")).to_be_in_viewport()
    focused = alice_page.evaluate("document.activeElement.textContent")
    assert "Are you reading?" in focused  # the first new message, to read on from
    write(bob_page, "And now?")  # at the bottom: it just shows
    expect(log.get_by_text("And now?")).to_be_in_viewport()
    expect(jump).to_be_hidden()


def test_a_draft_survives_switching_and_reloads_until_sent_or_signed_out(new_page, live, app):
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    carol, _ = person(app, "carol", "Carol Chen")
    with_bob, _ = seed(app, alice, bob, days=1)
    seed(app, alice, carol, days=1)
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    page.goto(f"/chats/{with_bob}")
    message = page.get_by_role("textbox", name="Message", exact=True)
    message.press_sequentially("half a thought")
    chat_link(page, "Carol Chen").click()
    expect(page.get_by_role("heading", level=1, name="Carol Chen")).to_be_visible()
    expect(message).to_have_value("")  # each chat its own
    chat_link(page, "Bob Okafor").click()
    expect(message).to_have_value("half a thought")
    page.reload()
    expect(message).to_have_value("half a thought")
    message.press("Enter")
    expect(page.get_by_role("log").get_by_text("half a thought")).to_be_visible()
    page.reload()
    expect(message).to_have_value("")
    message.press_sequentially("never to be sent")
    page.wait_for_timeout(400)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    _, cookies = session_cookies(app, alice["email"])
    page.context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    page.goto(f"/chats/{with_bob}")
    expect(message).to_have_value("")
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('parley:draft:'))") == []


def test_news_from_another_chat_is_announced_once_and_counted_in_the_title(new_page, live, app):
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    carol, _ = person(app, "carol", "Carol Chen")
    with_bob, _ = seed(app, alice, bob, days=1)
    with_carol, _ = seed(app, alice, carol, days=1)
    alice_page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    listen_to_live_regions(alice_page)
    alice_page.goto(f"/chats/{with_carol}")
    bob_page = open_as(new_page, live, bob_cookies, viewport={"width": 320, "height": 640})
    bob_page.goto(f"/chats/{with_bob}")
    other_tab = alice_page.context.new_page()  # Alice again, in another tab, in her chat with Bob
    other_tab.goto(f"/chats/{with_bob}")
    for page in (alice_page, bob_page, other_tab):
        connected(page)
    other_tab.goto(f"/chats/{with_carol}")  # then she leaves it, so Bob's next message waits for her
    connected(other_tab)
    write(bob_page, "Lunch?")
    expect(alice_page).to_have_title("(1) \u2068Carol Chen\u2069 · Parley")
    expect(chat_link(alice_page, "Bob Okafor")).to_contain_text("1 unread")
    wait_until(alice_page, "window.spoken.some((e) => e.text === 'New message from Bob Okafor')")
    write(other_tab, "Note to self, from Alice's other tab")  # her own: no news for her
    expect(chat_link(alice_page, "Carol Chen")).to_contain_text("You: Note to self")
    time.sleep(0.5)
    said = spoken(alice_page)
    assert said.count("New message from Bob Okafor") == 1, said
    assert not any("Alice" in text or "Note to self" in text for text in said), said
    assert_accessible(alice_page)
    other_tab.goto(f"/chats/{with_bob}")  # read in one tab: the other's title follows
    expect(alice_page).to_have_title("\u2068Carol Chen\u2069 · Parley")
    print("\nwhat Alice's screen reader said: " + " | ".join(spoken(alice_page)))


def test_focus_stays_on_what_a_push_replaces(new_page, live, app, tmp_path):
    from PIL import Image

    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1)
    alice_page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    alice_page.goto(f"/chats/{chat_id}")
    connected(alice_page)
    picture = tmp_path / "p.png"
    Image.new("RGB", (200, 100), (10, 100, 10)).save(picture)
    alice_page.get_by_label("Attach image").set_input_files(picture)
    alice_page.get_by_label("Image description").fill("A green field")
    alice_page.get_by_role("button", name="Send").click()
    image_link = alice_page.get_by_role("log").get_by_role("link", name="A green field")
    expect(image_link).to_be_visible()
    expect(alice_page.get_by_role("log").locator(".message-row.mine").last.locator(".message-status")).to_have_text(
        "Sent"
    )
    focused = lambda: alice_page.evaluate("document.activeElement.id")  # noqa: E731

    # A message's status: the receipt replaces the row holding the focused image link.
    image_link.focus()
    before = focused()
    bob_page = open_as(new_page, live, bob_cookies, viewport={"width": 1280, "height": 800})
    bob_page.goto(f"/chats/{chat_id}")
    expect(alice_page.get_by_role("log").locator(".message-row.mine").last.locator(".message-status")).to_have_text(
        "Seen"
    )
    assert focused() == before

    # A Chats entry, replaced and moved by a new message; and typing in it, and presence.
    entry = chat_link(alice_page, "Bob Okafor")
    entry.focus()
    before = focused()
    connected(bob_page)
    bob_page.get_by_role("textbox", name="Message", exact=True).press_sequentially("typ", delay=50)
    expect(alice_page.locator(".typing")).to_have_text("Bob Okafor is typing…")
    assert focused() == before
    bob_page.keyboard.press("Enter")
    expect(entry).to_contain_text("typ")
    assert focused() == before
    bob_page.close()  # Bob goes: his presence changes in the entry and the header
    expect(alice_page.locator(".presence-status")).to_have_text(
        re.compile("^Last seen"), timeout=15_000, use_inner_text=True
    )
    assert focused() == before


def test_without_javascript_check_for_new_messages_and_times_in_your_zone(new_page, live, app):
    from zoneinfo import ZoneInfo

    alice, alice_cookies = person(app, "alice", "Alice Appleton", zone=None)
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, docs = seed(app, alice, bob, days=1)
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    page.goto(f"/chats/{chat_id}")
    last = page.get_by_role("log").locator(".message-row").last
    expect(last.locator("time")).to_have_text(f"{docs[-1]['created_at']:%H:%M} UTC")  # labelled, until she says
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Your time zone is saved.")).to_be_visible()
    page.goto(f"/chats/{chat_id}")
    tokyo = docs[-1]["created_at"].astimezone(ZoneInfo("Asia/Tokyo"))
    expect(last.locator("time")).to_have_text(f"{tokyo:%H:%M}")

    bob_page = open_as(new_page, live, bob_cookies, viewport={"width": 320, "height": 640})
    bob_page.goto(f"/chats/{chat_id}")
    write(bob_page, "Written later")
    expect(bob_page.get_by_role("log").locator(".message-row", has_text="Written later")).to_contain_text("Sent")
    page.get_by_role("link", name="Check for new messages").click()
    expect(page).to_have_url(re.compile(r"#unread$"))
    expect(page.get_by_role("log").get_by_text("Written later")).to_be_visible()
    expect(page.get_by_role("heading", name="1 new message")).to_be_in_viewport()
    page.get_by_role("link", name="Check for new messages").click()
    expect(page).to_have_url(re.compile(r"#latest$"))
    shoot(page, "chat-without-javascript-checked")


def test_the_browser_time_zone_is_learned_the_first_time(new_page, live, app):
    from zoneinfo import ZoneInfo

    from app.data import users

    alice, alice_cookies = person(app, "alice", "Alice Appleton", zone=None)
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, docs = seed(app, alice, bob, days=1)
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800}, timezone_id="Asia/Kolkata")
    page.goto(f"/chats/{chat_id}")
    kolkata = docs[-1]["created_at"].astimezone(ZoneInfo("Asia/Kolkata"))
    expect(page.get_by_role("log").locator(".message-row").last.locator("time")).to_have_text(f"{kolkata:%H:%M}")
    with app.app_context():
        assert users.get(alice["_id"])["time_zone"] == "Asia/Kolkata"
    page.goto("/profile")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")  # the browser said Asia/Calcutta
    assert_accessible_in_every_scheme(page, "profile-time-zone")
