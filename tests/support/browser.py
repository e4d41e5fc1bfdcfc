"""What a person does in the browser, step by step, for the browser tests."""

import json
import os
import re
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.support.conversation import open_as
from tests.support.people import session_cookies, unique_email

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
# The WCAG A/AA rules whose outcome a colour scheme can change.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
axe = Axe()


def sign_in(page, inbox, email, keyboard_only=False, name=None):
    """Sign in; on a first sign-in, choose `name`, or skip choosing (keeping the email's local part)."""
    before = len(inbox.to(email))
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Verification code").fill(inbox.code(email, count=before + 1))
    page.get_by_role("button", name="Verify").click()
    chats, welcome = page.get_by_role("navigation", name="Chats"), page.get_by_role("heading", name="Choose your name")
    expect(chats.or_(welcome)).to_be_visible()
    if welcome.is_visible():
        if name:
            page.get_by_label("Name", exact=True).fill(name)
            page.get_by_role("button", name="Continue").click()
        else:
            page.get_by_role("button", name="Skip").click()
    expect(chats).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def wait_until(page, expression, timeout=10):
    """Poll a JavaScript expression until it is truthy. Playwright's wait_for_function
    compiles its predicate with eval, which our Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.05)


def assert_accessible(page, context=None, rules=None):
    """No WCAG 2.2 A/AA violations that axe-core can find on the page as it is now
    (only `rules`, if given). axe-core is injected once per document, and only
    violations come back, not every node that passed."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe.axe_script)
    only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": WCAG_22_AA}
    options = {"runOnly": only, "resultTypes": ["violations"]}
    results = page.evaluate("([context, options]) => axe.run(context || document, options)", [context, options])
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results["violations"]
    ]
    assert violations == [], f"axe found on {page.url}:\n{json.dumps(violations, indent=2)}"


def connected(page):
    """Wait until the server says the page's live connection gets every push
    (pushes of the moment, such as typing, reach only such pages)."""
    wait_until(page, "document.getElementById('live')?.dataset.state === 'attached'")


def start_chat(page, name):
    """Find `name` in New chat and open a chat with them. The directory is
    private: a stranger is found by their whole email address (people in
    these tests are named after theirs, see unique_email)."""
    page.get_by_role("link", name="New chat").click()
    page.get_by_label("Search people").fill(f"{name}@example.com")
    page.get_by_label("Search people").press("Enter")
    page.get_by_role("button", name=f"Chat with {name}").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


def send_message(page, text, picture=None, description=""):
    page.get_by_role("textbox", name="Message", exact=True).fill(text)
    if picture:
        page.get_by_label("Attach image").set_input_files(picture)
        page.get_by_label("Image description").fill(description)
    page.get_by_role("button", name="Send").click()


def chat_link(page, name):
    return page.get_by_role("navigation", name="Chats").get_by_role("link", name=re.compile(name))


def signed_in_page(new_page, server, app, email, **options):
    """A page from new_page(**options), signed in as `email` by cookie, on "/"
    with Chats shown: where `sign_in` leaves a first sign-in that skips
    choosing a name (the name is the email's local part), without the sign-in
    pages or the email. For tests where signing in is only the setup; `app`
    is an in-process app on the same database and Redis keys as `server`."""
    from app.data import users

    user, cookies = session_cookies(app, email)
    with app.app_context():
        users.keep_name(user["_id"])  # what "Skip" does: no "Choose your name"
    page = open_as(new_page, server, cookies, **options)
    page.goto("/")
    expect(page.get_by_role("navigation", name="Chats")).to_be_visible()
    return page


def user_id(page):
    """The id of the person signed in on `page`."""
    return page.evaluate("document.documentElement.dataset.user")


def two_people(new_page, server, app, **options):
    """Alice and Bob, each signed in on a page of their own: (alice, bob, alice's name, bob's name)."""
    alice_email, bob_email = unique_email("alice"), unique_email("bob")
    alice = signed_in_page(new_page, server, app, alice_email, **options)
    bob = signed_in_page(new_page, server, app, bob_email, **options)
    return alice, bob, alice_email.split("@")[0], bob_email.split("@")[0]


# What a screen reader would say: the text of every live region, each time it changes.
SPOKEN = """
window.spoken = [];
document.addEventListener("DOMContentLoaded", () => {
  const said = new WeakMap();
  const live = (element) => {
    const politeness = element.getAttribute("aria-live");
    if (politeness) return politeness !== "off";
    return ["status", "alert", "log"].includes(element.getAttribute("role"));
  };
  const listen = () => {
    for (const region of document.querySelectorAll("[aria-live], [role=status], [role=alert], [role=log]")) {
      if (!live(region)) continue;
      const text = region.textContent.replace(/\\s+/g, " ").trim();
      if (text && text !== said.get(region)) {
        window.spoken.push({ at: Date.now(), region: region.id || region.getAttribute("role"), text });
      }
      said.set(region, text);
    }
  };
  listen();
  new MutationObserver(listen).observe(document.body, { subtree: true, childList: true, characterData: true });
});
"""

SCHEMES = {
    "light": {"color_scheme": "light", "forced_colors": "none"},
    "dark": {"color_scheme": "dark", "forced_colors": "none"},
    "forced": {"color_scheme": "light", "forced_colors": "active"},
}
LIGHT = {"light": SCHEMES["light"]}
LIGHT_AND_DARK = {"light": SCHEMES["light"], "dark": SCHEMES["dark"]}
RESULTS = "test-results/screen"
SCREENSHOTS = bool(os.environ.get("SCREENSHOTS"))


def listen_to_live_regions(page):
    """From the next page load on, page.evaluate("window.spoken") is what its live regions said."""
    page.context.add_init_script(SPOKEN)


def spoken(page):
    return [entry["text"] for entry in page.evaluate("window.spoken || []")]


def watch_console(page):
    """Errors the page logs (a CSP violation is one) or throws, as they happen."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def shoot(page, name, schemes=SCHEMES, of=None, **options):
    """Screenshots of the page (or of the element `of`) as it is, in each scheme,
    under test-results/screen: taken only with SCREENSHOTS=1 (`make screens`),
    as they are for people to look at and assert nothing."""
    if not SCREENSHOTS:
        return []
    os.makedirs(RESULTS, exist_ok=True)
    paths = []
    for scheme, media in schemes.items():
        page.emulate_media(**media)
        path = f"{RESULTS}/{name}-{scheme}.png"
        (of or page).screenshot(path=path, **options)
        paths.append(path)
    page.emulate_media(**SCHEMES["light"])
    print("\nscreenshots: " + " ".join(paths))
    return paths


def assert_accessible_in_every_scheme(page, name=None):
    """No axe violations in light, dark or forced colours (and screenshots of each, if named).
    Only colours change between schemes: after the first, only the colour rules run."""
    for scheme, media in SCHEMES.items():
        page.emulate_media(**media)
        assert_accessible(page, rules=None if scheme == "light" else COLOUR_RULES)
        if name:
            shoot(page, name, {scheme: media})
    page.emulate_media(**SCHEMES["light"])
