"""Reaching people who are away (issue 27), in Chromium against Parley as the
Procfile runs it (web, chat, mail and notify workers) with the email's delay
shortened: Bob closes his page, Alice writes, and the email comes; the link
in it opens the chat at the first of them, through sign-in; reading first,
or "Never", sends nothing; unsubscribing is one POST without a session.
Screenshots of the email and of the settings go to test-results/screen."""

import os
import re
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

import config
from tests.support.browser import (
    LIGHT_AND_DARK,
    assert_accessible,
    connected,
    send_message,
    shoot,
    signed_in_page,
    start_chat,
    user_id,
)
from tests.support.people import unique_email
from tests.support.services import Processes, free_port, redis_at, wait_for

# One deployment of its own (below) for the module: its tests on one pytest-xdist process.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("test_away_browser")]

DELAY = 4  # seconds: MISSED_MESSAGE_DELAY for this deployment


@pytest.fixture(scope="module")
def away(base_env):
    """A deployment of its own (its own keys and queues), whose emails come DELAY seconds after a message."""
    port = free_port()
    name = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        **base_env,
        "KEY_PREFIX": f"test-away-{name}:",
        "QUEUE_PREFIX": f"test-away-{name}.",
        "MISSED_MESSAGE_DELAY": str(DELAY),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SIGNIN_RESEND_COOLDOWN": "1",
        "VAPID_PRIVATE_KEY": config.new_vapid_key(),  # Web Push on: the button shows
    }
    processes = Processes(env)
    web = processes.web(port=port)
    for kind in ("chat", "mail", "notify"):
        processes.worker(kind)
    web.env = env
    yield web
    processes.stop_all()


@pytest.fixture
def away_app(away):
    """An app in this process made from the deployment's environment (its
    database, secrets and keys, where its sessions are): to sign people in by cookie."""
    from app import create_app

    return create_app(config.load(away.env))


@pytest.fixture
def open_page(browser, away):
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=away.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def checks_waiting(away, person):
    """The scheduled checks for `person` (a user id), due or claimed."""
    client = redis_at(away.env["REDIS_URL"])
    prefix = away.env["KEY_PREFIX"]
    return [
        check
        for key in ("{notify}:due", "{notify}:claimed")
        for check in client.zrange(prefix + key, 0, -1)
        if check.endswith(person)
    ]


def alice_writes(page, bob_name, *texts):
    for text in texts:
        send_message(page, text)
        expect(page.get_by_role("log").get_by_text(text)).to_be_visible()
    expect(page.get_by_role("log").locator(".message-row").last).to_contain_text("Sent")


def test_an_email_reaches_bob_when_he_is_away_and_opens_the_chat_at_the_first_unread(open_page, away, away_app, inbox):
    bob_email, alice_email = unique_email("bob"), unique_email("alice")
    bob_name, alice_name = bob_email.split("@")[0], alice_email.split("@")[0]
    bob = signed_in_page(open_page, away, away_app, bob_email)
    bob_id = user_id(bob)
    bob.close()  # Bob goes away
    alice = signed_in_page(open_page, away, away_app, alice_email)
    start_chat(alice, bob_name)
    connected(alice)
    alice_writes(alice, bob_name, "Are you there?", "I have the numbers.", "Call me when you can")

    email = inbox.wait(bob_email, count=1, timeout=DELAY + 10)  # the first to him (he signed in by cookie)
    assert email["Subject"] == f"3 new messages from {alice_name}"
    text = email.get_body(("plain",)).get_content()
    assert text.index("Are you there?") < text.index("I have the numbers.") < text.index("Call me when you can")
    link = re.search(rf"Open your chat with {alice_name}: (\S+)", text).group(1)
    assert urlsplit(link).path.endswith("/new")
    html = email.get_body(("html",)).get_content()
    assert f'href="{link}"' in html

    reader = open_page(viewport={"width": 1280, "height": 800})  # another browser: no session
    reader.goto(link)
    expect(reader.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_here(reader, inbox, bob_email)
    expect(reader).to_have_url(re.compile(r"/chats/[0-9a-f]{24}#unread$"))
    expect(reader.get_by_role("heading", level=1, name=alice_name)).to_be_visible()
    expect(reader.locator("#unread")).to_contain_text("3 new messages")
    first = reader.locator("#unread + .message-row, #unread ~ .message-row").first
    expect(first).to_contain_text("Are you there?")
    wait_for(lambda: not checks_waiting(away, bob_id), 10, what="Bob's check to have run")
    assert len(inbox.to(bob_email)) == 2  # the email and the code he just signed in with
    shoot_email(reader, email, "away-email")


def sign_in_here(page, inbox, email):
    """Sign in from the page sign-in sent a link to (the code is the latest to `email`)."""
    before = len(inbox.to(email))
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Verification code").fill(inbox.code(email, count=before + 1))
    page.get_by_role("button", name="Verify").click()


def test_reading_before_the_delay_sends_nothing_and_never_sends_nothing(open_page, away, away_app, inbox):
    bob_email, alice_email = unique_email("bob"), unique_email("alice")
    bob_name = bob_email.split("@")[0]
    bob = signed_in_page(open_page, away, away_app, bob_email)
    bob_id = user_id(bob)
    alice = signed_in_page(open_page, away, away_app, alice_email)
    start_chat(alice, bob_name)
    chat = alice.url
    bob.goto("/profile")  # Bob is about, but not in the chat

    alice_writes(alice, bob_name, "Quick question")
    wait_for(lambda: checks_waiting(away, bob_id), 10, what="a check for Bob")
    bob.goto(urlsplit(chat).path)  # he reads it within the delay
    expect(bob.get_by_role("log").get_by_text("Quick question")).to_be_visible()
    wait_for(lambda: not checks_waiting(away, bob_id), DELAY + 10, what="the check to have run")
    assert inbox.to(bob_email) == []  # (he signed in by cookie: no code either)

    bob.goto("/profile")
    bob.get_by_role("radio", name="Never").check()
    bob.get_by_role("button", name="Update notifications").click()
    expect(bob.get_by_role("status").filter(has_text="saved")).to_have_text("Your notification settings are saved.")
    bob.close()
    alice_writes(alice, bob_name, "Still there?")
    # The chat worker may still schedule a check (it knows people's settings
    # a minute old): the check itself reads "Never".
    wait_for(lambda: not checks_waiting(away, bob_id), DELAY + 10, what="any check for Bob to have run")
    assert inbox.to(bob_email) == []


def test_one_click_unsubscribe_is_a_post_without_a_session(open_page, away, away_app, inbox, playwright_request):
    bob_email, alice_email = unique_email("bob"), unique_email("alice")
    bob = signed_in_page(open_page, away, away_app, bob_email, viewport={"width": 1280, "height": 800})
    bob.goto("/profile")
    alice = signed_in_page(open_page, away, away_app, alice_email)
    start_chat(alice, bob_email.split("@")[0])
    alice_writes(alice, bob_email.split("@")[0], "Hello")
    email = inbox.wait(bob_email, count=1, timeout=DELAY + 10)
    url = email["List-Unsubscribe"].strip("<>")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    answer = playwright_request.post(url, form={"List-Unsubscribe": "One-Click"})  # as a mail client does
    assert answer.status == 200 and "Nothing else has changed." in answer.text()
    bob.reload()
    expect(bob.get_by_role("radio", name="Never")).to_be_checked()
    expect(bob.get_by_role("checkbox", name="Don't include message text")).not_to_be_checked()


@pytest.fixture
def playwright_request(browser, away):
    """HTTP without a browser: no cookies, no CSRF token, as a mail client posts."""
    context = browser.new_context(base_url=away.url)
    yield context.request
    context.close()


def test_the_notifications_settings_read_well_at_320_and_1280_and_are_accessible(open_page, away, away_app):
    for width, height in ((320, 640), (1280, 800)):
        page = signed_in_page(
            open_page, away, away_app, unique_email("vera"), viewport={"width": width, "height": height}
        )
        page.goto("/profile#notifications")
        section = page.get_by_role("region", name="Notifications")
        expect(section.get_by_role("radio", name="Within 4 seconds")).to_be_checked()
        section.get_by_text("Preview of the email").click()
        frame = page.frame_locator("iframe[title='Preview of the email']")
        expect(frame.get_by_role("heading", level=1)).to_have_text("2 new messages from Ada Lovelace")
        assert_accessible(page)
        shoot(page, f"away-settings-{width}", LIGHT_AND_DARK, of=section)
        page.keyboard.press("Tab")  # reachable by keyboard: the choices, then the checkbox, then the button
        section.get_by_role("radio", name="Within an hour").focus()
        page.keyboard.press("Space")
        section.get_by_role("checkbox", name="Don't include message text").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(section.get_by_role("button", name="Update notifications")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
        expect(frame.get_by_text("I have the numbers")).to_have_count(0)  # the preview follows the choice
        page.context.close()


def test_notify_me_in_this_browser_shows_with_javascript_and_its_worker_runs_under_the_csp(open_page, away, away_app):
    """Headless Chromium reaches no push service here, so subscribing fails,
    and the page says so; the button, the service worker and the message are
    what a person sees."""
    errors = []

    def watched_page(**options):
        page = open_page(**options)
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        return page

    page = signed_in_page(watched_page, away, away_app, unique_email("nia"), permissions=["notifications"])
    page.goto("/profile")
    button = page.get_by_role("button", name="Notify me in this browser")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#browser-status")).not_to_be_empty()
    registered = "navigator.serviceWorker.getRegistration().then((found) => Boolean(found))"
    assert page.evaluate(registered)
    print("\nthis browser:", page.locator("#browser-status").text_content())
    assert not [error for error in errors if "Content Security Policy" in error]


def test_without_javascript_there_is_no_browser_button(open_page, away, away_app):
    page = signed_in_page(open_page, away, away_app, unique_email("noah"), java_script_enabled=False)
    page.goto("/profile")
    expect(page.get_by_role("radio", name="Never")).to_be_visible()
    expect(page.get_by_role("button", name="Notify me in this browser")).to_be_hidden()


def shoot_email(page, email, name):
    """The email as a mail client shows it: its HTML part, and its plain part, each light and dark."""
    html = email.get_body(("html",)).get_content()
    text = email.get_body(("plain",)).get_content()
    plain = (
        '<!doctype html><meta name="color-scheme" content="light dark"><title>Plain text</title>'
        '<pre style="white-space:pre-wrap;overflow-wrap:anywhere;font:15px/1.5 monospace;margin:16px">'
        + text.replace("&", "&amp;").replace("<", "&lt;")
        + "</pre>"
    )
    for part, content in (("html", html), ("plain", plain)):
        page.set_viewport_size({"width": 600, "height": 900})
        page.goto("about:blank")  # a document of its own, as in a mail client: not under Parley's CSP
        page.set_content(content)
        if part == "html":
            assert_accessible(page)
        shoot(page, f"{name}-{part}", LIGHT_AND_DARK, full_page=True)
