"""The chat screen (issue 14): a full-height conversation that reflows from
1280 px to 320 px and at 400% zoom, a compact composer, messages that read
like a conversation, faces, images; accessible and quiet in the console."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.browser import (
    LIGHT,
    assert_accessible,
    assert_accessible_in_every_scheme,
    connected,
    shoot,
    watch_console,
)
from tests.support.conversation import open_as, person, seed

pytestmark = pytest.mark.browser

# 1280x800 at 400% zoom lays out as 320x200 CSS px (drawn with 4 device px each).
SIZES = {
    "1280x800": {"viewport": {"width": 1280, "height": 800}},
    "768x1024": {"viewport": {"width": 768, "height": 1024}},
    "320x640": {"viewport": {"width": 320, "height": 640}},
    "1280x800-at-400": {"viewport": {"width": 320, "height": 200}, "device_scale_factor": 4},
}
# The least the log may show, in CSS px of its own height in view, at each size. Before this
# screen: 310, 506, 128 and 18. At 400% zoom the page scrolls as a whole, opening at the end.
LOG_AT_LEAST = {"1280x800": 600, "768x1024": 800, "320x640": 440, "1280x800-at-400": 100}

LAYOUT = """() => {
  const box = (element) => element.getBoundingClientRect();
  const log = document.querySelector("[role=log]");
  const view = box(log);
  const visible = Math.min(view.bottom, innerHeight) - Math.max(view.top, 0);
  const rows = [...log.querySelectorAll(".message-row")];
  const last = box(rows.at(-1));
  const composer = box(document.getElementById("composer"));
  const seen = rows.filter((row) => {
    const r = box(row);
    return r.top >= Math.max(view.top, 0) - 1 && r.bottom <= Math.min(view.bottom, composer.top) + 1;
  });
  return {
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    logInView: Math.round(visible),
    lastBottom: last.bottom, lastTop: last.top,
    composerTop: composer.top,
    rowsInView: seen.length,
  };
}"""

# Every visible label beside its own control: touching or within 12 px, side by side or stacked.
LABELS = """() => {
  const problems = [];
  for (const label of document.querySelectorAll("#composer label")) {
    const control = document.getElementById(label.htmlFor);
    const a = label.getBoundingClientRect(), b = control.getBoundingClientRect();
    if (a.width <= 1 || getComputedStyle(label).display === "none" || !label.checkVisibility()) continue;
    const gapX = Math.max(0, Math.max(a.left, b.left) - Math.min(a.right, b.right));
    const gapY = Math.max(0, Math.max(a.top, b.top) - Math.min(a.bottom, b.bottom));
    const apart = Math.min(gapX, gapY) > 0 || Math.max(gapX, gapY) > 12;
    if (apart) problems.push(`${label.textContent.trim()}: ${gapX},${gapY}`);
  }
  return problems;
}"""

# The WCAG 1.4.12 text-spacing override.
TEXT_SPACING = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }"
    " p { margin-bottom: 2em !important; }"
)


@pytest.fixture
def conversation(app):
    """Alice and Bob, three days of talk (60+ messages, images among them)."""
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, docs = seed(app, alice, bob, days=3)
    return {
        "alice": alice,
        "bob": bob,
        "alice_cookies": alice_cookies,
        "bob_cookies": bob_cookies,
        "chat_id": chat_id,
        "docs": docs,
    }


@pytest.mark.parametrize("size", SIZES)
def test_the_chat_fills_the_window_and_reflows(new_page, live, conversation, size):
    assert len(conversation["docs"]) >= 60
    page = open_as(new_page, live, conversation["alice_cookies"], **SIZES[size])
    errors = watch_console(page)
    page.goto(f"/chats/{conversation['chat_id']}")
    expect(page.get_by_role("log", name="Messages").get_by_text("Got it.").last).to_be_visible()
    layout = page.evaluate(LAYOUT)
    print(f"\n{size}: the log shows {layout['logInView']} px, {layout['rowsInView']} messages whole")
    assert layout["overflow"] <= 0, layout  # no sideways scrolling
    assert layout["logInView"] >= LOG_AT_LEAST[size], layout
    assert layout["lastBottom"] <= layout["composerTop"] + 1, layout  # the composer covers nothing
    if size == "320x640":
        assert layout["rowsInView"] >= 3, layout
    assert page.evaluate(LABELS) == []
    shoot(page, f"chat-{size}")
    page.get_by_label("Attach image").set_input_files(make_picture(page))
    expect(page.get_by_label("Image description")).to_be_visible()
    assert page.evaluate(LABELS) == []
    assert page.evaluate(LAYOUT)["overflow"] <= 0
    shoot(page, f"chat-{size}-image-chosen", LIGHT)
    page.evaluate("document.querySelector('.log').scrollTop = -1e9; scrollTo(0, 0)")  # the oldest, with a day
    shoot(page, f"chat-{size}-earlier", LIGHT)
    assert errors == []


def make_picture(page, size=(640, 480)):
    import tempfile

    path = tempfile.mktemp(suffix=".png")
    Image.new("RGB", size, (40, 120, 250)).save(path)
    return path


def test_the_text_spacing_override_and_no_javascript_reflow_too(new_page, live, conversation):
    page = open_as(
        new_page, live, conversation["alice_cookies"], viewport={"width": 320, "height": 640}, bypass_csp=True
    )
    page.goto(f"/chats/{conversation['chat_id']}")
    page.add_style_tag(content=TEXT_SPACING)
    assert page.evaluate(LAYOUT)["overflow"] <= 0
    clipped = page.evaluate("""() => [...document.querySelectorAll('button, .bubble, label, .chat-link')]
        .filter((e) => e.checkVisibility() && e.getBoundingClientRect().width > 1)
        .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
        .map((e) => e.outerHTML.slice(0, 80))""")
    assert clipped == []
    shoot(page, "chat-320x640-text-spacing", LIGHT)

    plain = open_as(
        new_page, live, conversation["alice_cookies"], viewport={"width": 320, "height": 640}, java_script_enabled=False
    )
    plain.goto(f"/chats/{conversation['chat_id']}")
    assert plain.evaluate(LAYOUT)["overflow"] <= 0
    for name in ("Message", "Attach image", "Image description"):  # a plain stacked form, each label shown
        expect(plain.locator("#composer label", has_text=name)).to_be_visible()
    assert plain.evaluate(LABELS) == []
    shoot(plain, "chat-320x640-without-javascript")


def test_messages_read_as_a_conversation(new_page, live, conversation):
    page = open_as(new_page, live, conversation["alice_cookies"], viewport={"width": 1280, "height": 800})
    page.goto(f"/chats/{conversation['chat_id']}")
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("heading", level=2)).to_have_text(["Yesterday", "Today"])  # the newest 50 messages
    page.get_by_role("button", name="Load earlier messages").click()
    expect(log.get_by_role("heading", level=2)).to_have_count(3)
    days = log.get_by_role("heading", level=2).all_inner_texts()
    assert days[1:] == ["Yesterday", "Today"], days
    log.get_by_role("heading", name="Today").scroll_into_view_if_needed()
    shoot(page, "chat-a-new-day")
    assert re.fullmatch(
        r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) \d{1,2} [A-Z][a-z]+( \d{4})?", days[0]
    )
    # A group's first message shows who (a heading) and when; the others in it have no heading,
    # and their time is for screen readers only (see test_hearing_browser for what is heard).
    meta = log.locator(".message-meta")
    assert meta.count() == log.locator(".message-row:not(.continued)").count()
    shown = meta.all_inner_texts()
    assert all(re.fullmatch(r"(You|Bob Okafor)\s*\d\d:\d\d", text.strip()) for text in shown), shown
    assert log.locator(".message-row.continued").count() > 10  # "Morning!" then "I put everything…", etc.
    expect(log.locator(".message-row.continued h3")).to_have_count(0)
    hidden = log.locator(".message-row.continued .message-time").first
    expect(hidden).to_have_text(re.compile(r"^\d\d:\d\d$"))
    assert hidden.evaluate("e => e.getBoundingClientRect().width") <= 1
    # "Seen" shows once, under the latest seen message; every own message still says its status.
    assert log.locator(".message-status").count() == sum(
        d["sender_id"] == conversation["alice"]["_id"] for d in conversation["docs"]
    )
    visible_statuses = log.locator(".message-status").evaluate_all(
        "all => all.filter((e) => e.getBoundingClientRect().width > 1).map((e) => e.textContent)"
    )
    assert visible_statuses == ["Seen"]
    # Long words and links wrap; images are thumbnails of a set size, a link to the full one.
    assert page.evaluate(LAYOUT)["overflow"] <= 0
    image = log.get_by_role("img", name="A 1600 by 400 picture").first
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("320", "80")
    link = log.get_by_role("link", name="A 1600 by 400 picture").first
    assert re.search(r"/chats/[0-9a-f]{24}/images/", link.get_attribute("href"))
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert round(box["width"]) == 320 and round(box["height"]) == 80
    assert_accessible_in_every_scheme(page, "chat-grouped-with-days")


def test_faces_are_decorative_and_long_names_truncate_but_are_heard_whole(new_page, live, app):
    long = "Maximiliana Wilhelmina Featherstonehaugh-Cholmondeley of Saint Kitts"
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, _ = person(app, "bob", long[:50])
    chat_id, _ = seed(app, alice, bob, days=1)
    page = open_as(new_page, live, alice_cookies, viewport={"width": 320, "height": 640})
    page.goto(f"/chats/{chat_id}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_accessible_name(long[:50])
    assert heading.evaluate("h => h.scrollHeight > h.clientHeight")  # cut after two lines, with an ellipsis
    avatar = page.locator(".chat-header .avatar")
    expect(avatar).to_have_attribute("aria-hidden", "true")
    expect(avatar).to_have_text("MF")  # first and last words
    assert page.evaluate(LAYOUT)["overflow"] <= 0
    page.goto("/")
    entry = page.get_by_role("navigation", name="Chats").get_by_role("listitem").first.get_by_role("link")
    expect(entry).to_have_accessible_name(re.compile("^" + re.escape(long[:50]) + r"\s*,"))
    assert_accessible_in_every_scheme(page, "home-320-long-name")


def test_the_composer_by_keyboard_alone(new_page, live, conversation, picture):
    page = open_as(new_page, live, conversation["alice_cookies"], viewport={"width": 1280, "height": 800})
    errors = watch_console(page)
    page.goto(f"/chats/{conversation['chat_id']}")
    # Intercept file choosers from the start: turned on only by expect_file_chooser, it can miss a quick key.
    page.on("filechooser", lambda chooser: None)
    message = page.get_by_role("textbox", name="Message", exact=True)
    expect(message).to_be_focused()
    page.keyboard.type("Here it is")
    attach = page.get_by_label("Attach image")

    def focus_shows():
        return page.evaluate("""() => {
            const e = document.activeElement;
            const ring = e.type === "file" ? e.labels[0] : e;
            const style = getComputedStyle(ring);
            return e.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
        }""")

    def choose(path):
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Enter")
        chooser.value.set_files(path)

    page.keyboard.press("Tab")
    expect(attach).to_be_focused()
    assert focus_shows()
    shoot(page, "composer-attach-focused", LIGHT)
    choose(picture)
    expect(page.get_by_role("img", name="Preview of sunset.png")).to_be_visible()
    expect(page.locator("#attachment-file")).to_contain_text("sunset.png")
    page.keyboard.press("Tab")
    description = page.get_by_label("Image description")
    expect(description).to_be_focused()
    assert focus_shows()
    page.keyboard.type("An orange sunset")
    page.keyboard.press("Tab")
    remove = page.get_by_role("button", name="Remove image")
    expect(remove).to_be_focused()
    assert focus_shows()
    assert_accessible_in_every_scheme(page, "composer-image-chosen")
    page.keyboard.press("Enter")
    expect(description).to_be_hidden()
    expect(attach).to_be_focused()  # where the next step starts
    assert page.evaluate("document.getElementById('message-image').files.length") == 0
    choose(picture)
    page.keyboard.press("Tab")
    expect(description).to_be_focused()
    expect(description).to_have_value("")  # a new image, a new description
    page.keyboard.type("The same sunset")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    assert focus_shows()
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("img", name="The same sunset")).to_be_visible()
    expect(log.get_by_text("Here it is")).to_be_visible()
    expect(description).to_be_hidden()
    expect(message).to_be_focused()
    expect(log.locator(".message-row.mine").last.locator(".message-status")).to_have_text("Sent")
    assert errors == []


def test_an_image_too_big_or_not_an_image_is_refused_before_sending(new_page, live, conversation, tmp_path):
    page = open_as(new_page, live, conversation["alice_cookies"], viewport={"width": 320, "height": 640})
    posts = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    page.goto(f"/chats/{conversation['chat_id']}")
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * int(6.7 * 1024 * 1024))
    page.get_by_label("Attach image").set_input_files(big)
    expect(page.get_by_role("alert")).to_have_text("This image is 6.7 MB; the limit is 5 MB.")
    expect(page.get_by_label("Image description")).to_be_hidden()
    expect(page.get_by_label("Attach image")).to_have_attribute("aria-invalid", "true")
    assert_accessible_in_every_scheme(page, "composer-image-too-big")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    page.get_by_label("Attach image").set_input_files(notes)
    expect(page.get_by_role("alert")).to_contain_text("“notes.txt” is not a JPEG, PNG, GIF or WebP image.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_contain_text("Write a message or attach an image.")
    assert [url for url in posts if url.endswith("/messages")] == []  # nothing was sent


def test_an_empty_chat_and_the_home_page_say_what_to_do(new_page, live, app):
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    page = open_as(new_page, live, alice_cookies, viewport={"width": 1280, "height": 800})
    page.goto("/")
    expect(page.get_by_role("heading", name="Start your first chat")).to_be_visible()
    assert_accessible_in_every_scheme(page, "home-empty")
    bob, _ = person(app, "bob", "Bob Okafor")
    from app.data import chats

    with app.app_context():
        chat = chats.open_between(alice["_id"], bob["_id"])
    page.goto(f"/chats/{chat['_id']}")
    expect(page.get_by_text("This is the start of your conversation with Bob Okafor.")).to_be_visible()
    assert_accessible_in_every_scheme(page, "chat-empty")


def test_a_whole_conversation_live_logs_no_console_error(new_page, live, conversation, picture):
    alice = open_as(new_page, live, conversation["alice_cookies"], viewport={"width": 1280, "height": 800})
    bob = open_as(new_page, live, conversation["bob_cookies"], viewport={"width": 320, "height": 640})
    errors = watch_console(alice)
    bob_errors = watch_console(bob)
    url = f"/chats/{conversation['chat_id']}"
    alice.goto(url)
    bob.goto(url)
    connected(alice)
    connected(bob)
    for n in range(3):
        alice.get_by_role("textbox", name="Message", exact=True).fill(f"Live {n}")
        alice.keyboard.press("Enter")
        expect(bob.get_by_role("log").get_by_text(f"Live {n}")).to_be_visible()
    bob.get_by_label("Attach image").set_input_files(picture)
    bob.get_by_label("Image description").fill("Sunset from Bob")
    bob.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("log").get_by_role("img", name="Sunset from Bob")).to_be_visible()
    expect(alice.get_by_role("log").locator(".message-row.mine").last.locator(".message-status")).to_have_text("Seen")
    rows = alice.get_by_role("log").locator(".message-row")
    assert "continued" in rows.nth(rows.count() - 2).get_attribute("class")  # "Live 1" continues "Live 0"
    assert_accessible_in_every_scheme(alice, "chat-after-live-pushes")
    assert_accessible(bob)
    shoot(bob, "chat-320-after-live-pushes")
    assert errors == [] and bob_errors == []


def test_the_message_box_grows_to_about_six_lines_then_scrolls(new_page, live, conversation):
    page = open_as(new_page, live, conversation["alice_cookies"], viewport={"width": 320, "height": 640})
    page.goto(f"/chats/{conversation['chat_id']}")
    box = page.get_by_role("textbox", name="Message", exact=True)
    one = box.bounding_box()["height"]
    box.press_sequentially("first")
    for n in range(2):
        box.press("Shift+Enter")
        box.press_sequentially(f"line {n + 2}")
    three = box.bounding_box()["height"]
    assert three > one * 1.8, (one, three)
    for n in range(9):
        box.press("Shift+Enter")
        box.press_sequentially(f"line {n + 4}")
    twelve = box.bounding_box()["height"]
    line = float(box.evaluate("b => getComputedStyle(b).lineHeight").removesuffix("px"))
    assert 5.5 * line < twelve < 7.5 * line, (line, twelve)  # about six lines, then it scrolls
    assert box.evaluate("b => b.scrollHeight > b.clientHeight")
    layout = page.evaluate(LAYOUT)
    assert layout["logInView"] >= 250 and layout["lastBottom"] <= layout["composerTop"] + 1, layout
    expect(page.get_by_role("log").locator(".message-row")).not_to_have_count(0)
    shoot(page, "composer-six-lines-320", LIGHT)
