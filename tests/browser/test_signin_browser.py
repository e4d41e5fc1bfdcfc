"""Sign in, out and in again in Chromium: with JavaScript, without, and by keyboard alone."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import RESEND_COOLDOWN
from tests.support.browser import assert_accessible, sign_in, sign_out
from tests.support.people import unique_email

pytestmark = pytest.mark.browser


def test_sign_in_sign_out_and_in_again(page, inbox):
    email = unique_email("fay")
    sign_in(page, inbox, email)
    expect(page.get_by_role("heading", name=re.compile("Welcome, fay"))).to_be_visible()
    expect(page.get_by_role("link", name="New chat")).to_be_visible()
    expect(page.get_by_role("link", name="Profile")).to_be_visible()
    sign_out(page)
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    page.goto("/")
    expect(page).to_have_url(re.compile("/signin$"))
    time.sleep(RESEND_COOLDOWN)
    sign_in(page, inbox, email)
    expect(page.get_by_role("heading", name=re.compile("Welcome, fay"))).to_be_visible()


def test_sign_in_without_javascript(new_page, inbox):
    page = new_page(java_script_enabled=False)
    email = unique_email("gus")
    page.goto("/signin")
    page.get_by_label("Email").fill("gus@")
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_text("Enter an email address like name@example.com.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("gus@")
    sign_in(page, inbox, email)
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Name", exact=True).fill("Gus Grissom")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Your name is saved.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Gus Grissom")
    sign_out(page)


def test_errors_are_swapped_in_place_with_htmx(page, inbox):
    page.goto("/signin")
    page.get_by_label("Email").fill("nobody")
    page.get_by_role("button", name="Send code").click()
    email_field = page.get_by_label("Email")
    expect(email_field).to_have_attribute("aria-invalid", "true")
    expect(email_field).to_be_focused()
    expect(email_field).to_have_accessible_description(re.compile("Enter an email address like name@example.com."))
    email = unique_email("hal")
    email_field.fill(email)
    page.get_by_role("button", name="Send code").click()
    expect(page).to_have_url(re.compile("/verify$"))
    code_field = page.get_by_label("Verification code")
    expect(code_field).to_be_focused()
    notice = page.get_by_role("status").filter(has_text=f"We sent a code to {email}")
    expect(notice).to_be_visible()
    code_field.fill("12ab")
    page.get_by_role("button", name="Verify").click()
    expect(code_field).to_have_accessible_description(re.compile("The code is 6 digits"))
    expect(notice).to_have_count(0)  # the later error replaces the earlier notice: one message, the current one
    page.get_by_role("button", name="Resend code").click()
    expect(page.get_by_role("alert").filter(has_text="You can ask for another in")).to_be_visible()
    expect(page.get_by_text("The code is 6 digits")).to_have_count(0)


def test_the_sign_in_journey_by_keyboard_alone(page, inbox):
    email = unique_email("ivy")
    page.goto("/signin")
    expect(page.get_by_label("Email")).to_be_focused()  # the page's one task starts where the focus is
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Verification code")).to_be_focused()
    page.keyboard.type(inbox.code(email))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose your name")).to_be_visible()  # the first time only
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    expect(page.get_by_label("Name", exact=True)).to_have_value(email.split("@")[0])  # prefilled from the email
    page.keyboard.press("Control+A")
    page.keyboard.type("Ivy Ives")
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()
    expect(page.get_by_role("heading", name="Welcome, Ivy Ives")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    for name in ("New chat", "Sign out"):  # backwards from the main content, through Chats, to the header
        for _ in range(20):
            if page.evaluate("document.activeElement.textContent.trim()") == name:
                break
            page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_pages_and_their_error_states_have_no_axe_violations(page, inbox):
    page.goto("/signin")
    assert_accessible(page)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    email = unique_email("jan")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_label("Verification code")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Verification code").fill("000000" if inbox.code(email) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Resend code").click()
    expect(page.get_by_role("alert").filter(has_text="You can ask for another in")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Verification code").fill(inbox.code(email))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Choose your name")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Enter the name people will see.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Skip").click()
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Welcome, {email.split('@')[0]}")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Enter the name people will see.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Name", exact=True).fill("Jan")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Your name is saved.")).to_be_visible()
    assert_accessible(page)


def test_pages_read_well_at_320_pixels(new_page, inbox):
    page = new_page(viewport={"width": 320, "height": 640})
    sign_in(page, inbox, unique_email("kit"))
    for path in ("/", "/profile", "/people"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        assert_accessible(page)
