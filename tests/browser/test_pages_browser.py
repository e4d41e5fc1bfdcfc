"""What a newcomer trips on around the chat (issue 26): pages that show
their own content first on a narrow screen, a chat header that keeps the
name, words that say how to find people, a home page that follows what
arrives, warning buttons, quiet notices, a code form that keeps the email,
previews cut at a word, and each page's outline starting at its h1."""

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
    sign_in,
    watch_console,
)
from tests.support.conversation import open_as, person, seed
from tests.support.people import unique_email

pytestmark = pytest.mark.browser

NARROW = {
    "320x640": {"viewport": {"width": 320, "height": 640}},
    # 1280x800 at 400% zoom lays out as 320x200 CSS px.
    "1280x800-at-400": {"viewport": {"width": 320, "height": 200}, "device_scale_factor": 4},
}
WIDE = {"viewport": {"width": 1280, "height": 800}}


def write(page, text):
    box = page.get_by_role("textbox", name="Message", exact=True)
    box.fill(text)
    box.press("Enter")


def friends(app, alice, count):
    """`count` people with a chat with Alice, one message each, none unread."""
    for n in range(count):
        friend, _ = person(app, f"friend{n}", f"Friend Number {n}")
        seed(app, alice, friend, days=0, extra=1)


# 1. Below 40rem every page but Chats shows only its own content.
@pytest.mark.parametrize("size", NARROW)
def test_narrow_profile_and_new_chat_show_their_own_content_first(new_page, live, app, size):
    alice, cookies = person(app, "alice", "Alice Appleton")
    friends(app, alice, 9)
    page = open_as(new_page, live, cookies, **NARROW[size])
    page.goto("/")
    chats = page.get_by_role("navigation", name="Chats")
    expect(chats).to_be_visible()  # the home page is Chats
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", level=1, name="Profile")).to_be_in_viewport()
    expect(chats).to_be_hidden()
    assert_accessible(page)
    shoot(page, f"profile-{size}", LIGHT_AND_DARK)
    page.get_by_role("link", name="Chats", exact=True).click()  # the way back
    expect(chats).to_be_visible()
    chats.get_by_role("link", name="New chat").click()
    expect(page.get_by_role("heading", level=1, name="New chat")).to_be_in_viewport()
    expect(page.get_by_label("Search people")).to_be_in_viewport()
    expect(chats).to_be_hidden()
    assert_accessible(page)
    shoot(page, f"new-chat-{size}", LIGHT_AND_DARK)
    page.set_viewport_size({"width": 1280, "height": 800})  # wide again: Chats beside every page
    expect(chats).to_be_visible()
    expect(page.get_by_role("link", name="Chats", exact=True)).to_be_hidden()


# 2. At 320 px the chat header keeps the name and the status whole, and "Reconnecting…" is a bar under it.
def test_the_narrow_chat_header_keeps_the_name_and_status_whole(new_page, live, app):
    from app.data import users

    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Brownlow")
    chat_id, _ = seed(app, alice, bob, days=1)
    with app.app_context():
        users.set_last_seen(bob["_id"])
    page = open_as(new_page, live, cookies, viewport={"width": 320, "height": 640})
    errors = watch_console(page)
    page.goto(f"/chats/{chat_id}")
    connected(page)
    heading = page.get_by_role("heading", level=1)
    status = page.locator(".presence-status")
    expect(status).to_have_text(re.compile("^Last seen today at"), use_inner_text=True)
    whole = "e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight"
    assert heading.evaluate(whole) and status.evaluate(whole)
    back = page.get_by_role("link", name="Chats", exact=True)
    expect(back).to_be_visible()
    assert back.evaluate("e => e.textContent.trim()") == "Chats"  # named, with only an icon to see
    assert back.bounding_box()["width"] >= 44 and back.bounding_box()["height"] >= 44
    shoot(page, "chat-header-320", LIGHT_AND_DARK)
    page.context.set_offline(True)
    bar = page.locator("#connection-status")
    expect(bar).to_have_text("Reconnecting…")
    expect(heading).to_be_visible()
    assert heading.evaluate(whole)
    header = page.locator(".chat-header").bounding_box()
    assert bar.bounding_box()["y"] >= header["y"] + header["height"] - 1  # under the header, not in it
    assert bar.bounding_box()["width"] >= 300
    assert_accessible_in_every_scheme(page, "chat-header-320-reconnecting")
    page.context.set_offline(False)
    expect(bar).to_have_text("")
    assert [error for error in errors if "ERR_INTERNET_DISCONNECTED" not in error] == []


# 3. Finding people: "their whole email address" wherever it is explained, and when no one is found.
def test_finding_people_says_their_whole_email_address(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    person(app, "bob", "Bob Okafor")
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto("/")
    expect(page.get_by_role("main")).to_contain_text("whole email address")
    expect(page.get_by_role("main")).not_to_contain_text("by their name or email address")
    page.get_by_role("link", name="New chat").click()
    page.get_by_label("Search people").fill("Bob")
    status = page.get_by_role("status").filter(has_text="found")
    expect(status).to_have_text(
        "No one found for “Bob”. Someone you do not chat with yet is found only by their whole email address."
    )
    expect(page.get_by_text("0 people found")).to_have_count(0)
    assert_accessible(page)


# 5. Home follows what arrives: the first chat ends "Start your first chat", and news ends "all caught up".
def test_the_home_page_follows_what_arrives(new_page, live, app):
    from app.data import chats

    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    page = open_as(new_page, live, alice_cookies, **WIDE)
    page.goto("/")
    connected(page)
    first = page.get_by_role("heading", name="Start your first chat")
    waiting = page.get_by_role("region", name="Waiting for you")
    caught_up = page.get_by_text("You are all caught up")
    expect(first).to_be_visible()
    expect(waiting).to_be_hidden()
    expect(caught_up).to_be_hidden()
    shoot(page, "home-first-chat-before", LIGHT_AND_DARK)
    with app.app_context():
        chat = chats.open_between(bob["_id"], alice["_id"])
    bob_page = open_as(new_page, live, bob_cookies, **WIDE)
    bob_page.goto(f"/chats/{chat['_id']}")
    write(bob_page, "Hello Alice, it's Bob")
    expect(chat_link(page, "Bob Okafor")).to_contain_text("1 unread")
    expect(first).to_be_hidden()
    expect(waiting).to_be_visible()
    expect(waiting.get_by_role("listitem")).to_have_text(["Bob Okafor: 1 unread"])
    expect(caught_up).to_be_hidden()
    assert_accessible_in_every_scheme(page, "home-first-chat-arrived")

    page.goto(f"/chats/{chat['_id']}")  # read: back home, she is caught up, without the first steps
    page.goto("/")
    connected(page)
    expect(caught_up).to_be_visible()
    expect(waiting).to_be_hidden()
    expect(page.get_by_text("Choose “New chat”")).to_be_hidden()
    shoot(page, "home-caught-up", LIGHT_AND_DARK)
    write(bob_page, "One more thing")
    expect(waiting.get_by_role("listitem")).to_have_text(["Bob Okafor: 1 unread"])
    expect(caught_up).to_be_hidden()
    assert_accessible(page)


# 10. Block and "Sign out of all devices" look like what they are: not the main blue action.
def test_block_and_sign_out_everywhere_are_warning_buttons(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=0, extra=1)
    page = open_as(new_page, live, cookies, **WIDE)
    background = "e => getComputedStyle(e).backgroundColor"
    for scheme, warning in (("light", "rgb(164, 34, 27)"), ("dark", "rgb(255, 180, 171)")):
        page.emulate_media(color_scheme=scheme)
        page.goto(f"/chats/{chat_id}/block")
        block = page.get_by_role("button", name="Block Bob Okafor")
        assert block.evaluate(background) == warning
        page.goto("/profile")
        everywhere = page.get_by_role("button", name="Sign out of all devices")
        assert everywhere.evaluate(background) == warning
        assert page.get_by_role("button", name="Save").evaluate(background) != warning
        assert_accessible(page)
    page.emulate_media(color_scheme="light")
    page.goto(f"/chats/{chat_id}/block")
    shoot(page, "block-confirm", LIGHT_AND_DARK)
    page.goto("/profile")
    page.get_by_role("heading", name="Devices").scroll_into_view_if_needed()
    shoot(page, "profile-devices", LIGHT_AND_DARK)


# 12. Notices are quiet banners, not bold green text; a search's result is said once.
def test_notices_are_banners_and_a_search_result_is_said_once(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto("/profile")
    page.get_by_label("Name", exact=True).fill("Alice A. Appleton")
    page.get_by_role("button", name="Save").click()
    notice = page.get_by_role("status").filter(has_text="Your name is saved.")
    expect(notice).to_be_visible()
    look = notice.evaluate(
        """e => { const s = getComputedStyle(e), body = getComputedStyle(document.body);
        const edge = parseFloat(s.borderInlineStartWidth) >= 3;
        return {weight: s.fontWeight, plain: s.color === body.color, edge}; }"""
    )
    assert look == {"weight": "400", "plain": True, "edge": True}, look
    assert_accessible_in_every_scheme(page, "profile-saved-notice")
    page.goto("/people?q=nobody-at-all")
    found = page.get_by_text(re.compile("found", re.IGNORECASE))
    expect(found).to_have_count(1)
    assert found.evaluate("e => getComputedStyle(e).fontWeight") == "400"
    shoot(page, "new-chat-no-one-found", LIGHT_AND_DARK)


# 14. "Use a different email" keeps the address to correct; the code field fits six digits.
def test_the_code_form_keeps_the_email_and_fits_six_digits(page, inbox):
    email = unique_email("typo")
    errors = watch_console(page)
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send code").click()
    code = page.get_by_label("Verification code")
    expect(code).to_be_visible()
    assert code.bounding_box()["width"] <= 130
    code.fill("12")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("The code is 6 digits")).to_be_visible()
    assert code.bounding_box()["width"] <= 130
    assert_accessible(page)
    shoot(page, "verify-code-error", LIGHT_AND_DARK)
    page.set_viewport_size({"width": 320, "height": 640})
    shoot(page, "verify-code-error-320", LIGHT_AND_DARK)
    page.get_by_role("link", name="Use a different email").click()
    expect(page.get_by_label("Email")).to_have_value(email)
    assert_accessible(page)
    assert [error for error in errors if "422" not in error] == []


# 16. The code form updates without a CSP error, even where something else styled its field
# (a password manager or an extension sets a style attribute; htmx's settling copied it).
def test_the_code_form_updates_without_a_csp_error(page, inbox):
    errors = watch_console(page)
    page.goto("/signin")
    page.get_by_label("Email").fill(unique_email("styled"))
    page.get_by_role("button", name="Send code").click()
    code = page.get_by_label("Verification code")
    code.evaluate("field => { field.style.backgroundImage = 'none'; }")
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    page.get_by_role("button", name="Resend code").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert [error for error in errors if "Content Security Policy" in error] == []


# 17. A long message's preview in Chats ends at a word, with an ellipsis.
def test_chats_previews_end_at_a_word(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=0, extra=1)
    page = open_as(new_page, live, cookies, **WIDE)
    page.goto(f"/chats/{chat_id}")
    long = "This message is long enough that its preview in Chats must be truncated somewhere sensible, not mid-word"
    write(page, long)
    preview = chat_link(page, "Bob Okafor").locator(".chat-preview")
    expect(preview).to_have_text("You: This message is long enough that its preview in Chats must be truncated…")


# 18. On every signed-in page the first heading is the page's own h1.
def test_every_signed_in_page_starts_its_outline_at_its_h1(new_page, live, app):
    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=0, extra=1)
    page = open_as(new_page, live, cookies, **WIDE)
    for path in ("/", "/profile", "/people", f"/chats/{chat_id}", f"/chats/{chat_id}/block"):
        page.goto(path)
        first = page.locator("h1, h2, h3, h4, h5, h6").first
        assert first.evaluate("e => e.tagName") == "H1", path
        expect(page.get_by_role("navigation", name="Chats")).to_be_visible()


def test_a_first_sign_in_reads_well_on_a_phone(new_page, inbox):
    page = new_page(viewport={"width": 320, "height": 640})
    sign_in(page, inbox, unique_email("newcomer"), name="Gita Rezaei")
    expect(page.get_by_role("heading", level=1, name="Welcome, Gita Rezaei")).to_be_in_viewport()
    assert_accessible_in_every_scheme(page, "home-320-first-sign-in")


TOUR = {"320x640": {"viewport": {"width": 320, "height": 640}}, "1280x800": WIDE}


@pytest.mark.parametrize("size", TOUR)
def test_the_changed_screens_at_320_and_1280(new_page, live, app, size):
    """Each state issue 26 changed, axe-clean, in light and dark under test-results/screen/tour-*."""
    from app.chats import blocks

    alice, cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1, unread_for=alice, unread=2)
    page = open_as(new_page, live, cookies, **TOUR[size])
    errors = watch_console(page)

    def look(name):
        assert_accessible(page)
        shoot(page, f"tour-{size}-{name}", LIGHT_AND_DARK)

    page.goto("/")
    expect(page.get_by_role("region", name="Waiting for you")).to_be_visible()
    look("home-waiting")
    page.goto("/people?q=Carol")
    look("new-chat-no-one-found")
    page.goto("/profile")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    look("profile-saved")
    page.get_by_role("button", name="Sign out of all devices").scroll_into_view_if_needed()
    look("profile-devices")
    page.goto(f"/chats/{chat_id}")
    connected(page)
    write(page, "The menu: https://example.com/menu.")
    expect(page.get_by_role("log").get_by_role("link", name="https://example.com/menu")).to_be_visible()
    look("chat")
    page.get_by_label("Options for Bob Okafor").click()
    look("chat-options")
    page.get_by_role("button", name="Block Bob Okafor").click()
    expect(page.get_by_role("heading", level=1, name="Block Bob Okafor?")).to_be_visible()
    look("block-confirm")
    page.get_by_role("button", name="Block Bob Okafor").click()
    expect(page.locator("#blocked")).to_be_visible()
    look("chat-blocked")
    page.get_by_role("button", name="Unblock Bob Okafor").click()
    expect(page.get_by_role("status").filter(has_text="You unblocked Bob Okafor.")).to_be_visible()
    connected(page)
    page.context.set_offline(True)
    write(page, "Written on the train")
    expect(page.get_by_text("Waiting for connection", exact=True)).to_be_attached()
    look("chat-waiting")
    page.context.set_offline(False)
    expect(page.get_by_role("log").locator(".message-row", has_text="on the train")).to_contain_text("Sent")
    page.route("**/messages", lambda route: route.fulfill(status=503, body="Parley can't reach its services."))
    write(page, "Through a hiccup")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    look("chat-retry")
    page.unroute("**/messages")
    page.get_by_role("button", name="Retry").click()
    with app.test_request_context():
        blocks.block(chat_id, bob["_id"], (alice["_id"], bob["_id"]))
    write(page, "Hello?")
    expect(page.get_by_role("log").locator(".message-row", has_text="Hello?")).to_contain_text("not taking messages")
    look("chat-refused")
    assert [error for error in errors if not re.search("503|ERR_INTERNET_DISCONNECTED|403", error)] == []
