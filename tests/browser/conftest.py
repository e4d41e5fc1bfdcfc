"""A live Parley (gunicorn with gevent, both workers) and Chromium through Playwright."""

import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.support.conversation import person, seed
from tests.support.services import Processes

RESEND_COOLDOWN = 3
# Chromium's headless shell, which Playwright itself runs for headless tests:
# a new context with its first page costs a quarter of the full browser's CPU
# (0.2 s against 0.8 s), and the browser tier took 200 s instead of 330 s.
HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"  # Debian's chromium-headless-shell
CHROMIUM = HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else shutil.which("chromium") or "/usr/bin/chromium"
# Quiet, offline, sandbox-free (we run as root in CI).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live(base_env):
    """The whole app, as the Procfile runs it, for the browser tests."""
    # A short resend cooldown, so a test can sign the same person in twice.
    processes = Processes({**os.environ, **base_env, "SIGNIN_RESEND_COOLDOWN": str(RESEND_COOLDOWN)})
    web = processes.web()
    processes.worker("mail")
    processes.worker("chat")
    web.processes = processes
    yield web
    processes.stop_all()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live):
    """new_page(**context_options): a page in a fresh browser context (its own cookies)."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def day_of_talk(app):
    """Alice and Bob with a day of talk behind them: (alice, alice's cookies,
    bob, bob's cookies, the chat's id)."""
    alice, alice_cookies = person(app, "alice", "Alice Appleton")
    bob, bob_cookies = person(app, "bob", "Bob Okafor")
    chat_id, _ = seed(app, alice, bob, days=1)
    return alice, alice_cookies, bob, bob_cookies, chat_id


@pytest.fixture
def picture(tmp_path):
    """A photo to attach: a 640x480 PNG."""
    from PIL import Image

    path = tmp_path / "sunset.png"
    Image.new("RGB", (640, 480), (250, 120, 40)).save(path)
    return path
