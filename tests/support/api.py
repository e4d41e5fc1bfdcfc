"""Clients of the original system's API (/api/v1 and Socket.IO), for tests:
an in-process JSON client signed in as someone, and a Socket.IO client (the
python-socketio one) that records what it hears."""

import re
import threading
import time

import socketio

from tests.support.people import session_cookies, unique_email

API = "/api/v1"
FRONT_END = "http://localhost:3003"  # the original front end's origin, as tests configure API_ORIGINS


def api_person(app, name):
    """A test client signed in as a new person (the cookies a /verify sets): client.user, client.cookies."""
    client = app.test_client()
    client.user, client.cookies = session_cookies(app, unique_email(name))
    for cookie, value in client.cookies.items():
        client.set_cookie(cookie, value)
    return client


def start_chat(alice, bob):
    """Alice starts a chat with Bob through the API; returns its id (text)."""
    response = alice.post(f"{API}/chat/new", json={"otherUserId": str(bob.user["_id"])})
    assert response.status_code == 200, response.json
    return response.json["chatId"]


def send_text(client, chat_id, text, **headers):
    """POST /message as the original front end does (multipart)."""
    return client.post(
        f"{API}/message", data={"chatId": chat_id, "text": text}, content_type="multipart/form-data", headers=headers
    )


def code_in(text):
    """The 8-digit code in a sign-in email's text."""
    return re.search(r"\b(\d{8})\b", text)[1]


class Listener:
    """A Socket.IO client that keeps every event it hears, in order: connect
    it with the person's cookies (`cookies`) and wait for what it expects."""

    def __init__(self, url, cookies=None, transports=None, query=None, origin=None):
        self.heard = []
        self.changed = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self.record)
        self.client.on("disconnect", lambda *reason: self.record("disconnect", list(reason)))
        headers = {}
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if origin:
            headers["Origin"] = origin
        address = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        transports = transports or ["polling", "websocket"]
        self.client.connect(address, headers=headers, transports=transports, wait_timeout=10)

    def record(self, event, data=None):
        with self.changed:
            self.heard.append((event, data))
            self.changed.notify_all()

    def emit(self, event, data=None):
        self.client.emit(event, data)

    def call(self, event, data=None):
        """emit, and wait until the server has handled it (its acknowledgement)."""
        return self.client.call(event, data, timeout=10)

    def events(self, name):
        with self.changed:
            return [data for event, data in self.heard if event == name]

    def wait(self, name, check=lambda data: True, timeout=20):
        """The first `name` event whose data passes `check`."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for event, data in self.heard:
                    if event == name and check(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {name} in {timeout}s; heard {[event for event, _ in self.heard]}")
                self.changed.wait(left)

    def never(self, name, check=lambda data: True, within=1.5):
        """No `name` event passing `check` arrives within `within` seconds."""
        try:
            found = self.wait(name, check, within)
        except AssertionError:
            return True
        raise AssertionError(f"heard {name}: {found}")

    @property
    def connected(self):
        return self.client.connected

    def close(self):
        self.client.disconnect()
