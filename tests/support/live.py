"""Clients of the live protocol, as a page's script drives it (a WebSocket
page and an event-stream page), and a listener on push channels."""

import http.client
import json
import socket
import time
from urllib.parse import urlencode, urlsplit

import websocket

from tests.support.services import redis_at


def cookie_header(cookies):
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class SocketPage:
    """An open page on /ws: says hello with the last stream id it holds, then
    keeps every push it receives (and that id up to date)."""

    def __init__(
        self,
        base_url,
        cookies,
        chat=None,
        after="0-0",
        visible=True,
        fresh=True,
        origin=None,
        page="test-page",
        receive_buffer=None,
    ):
        options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)] if receive_buffer else None
        self.ws = websocket.create_connection(
            base_url.replace("http", "ws", 1) + "/ws",
            origin=origin or base_url,
            cookie=cookie_header(cookies) if cookies else None,
            timeout=10,
            sockopt=options,
        )
        self.last_id = after
        self.pushes = []
        self.attached = False
        self.close_code = None
        self.ws.send(
            json.dumps(
                {
                    "type": "hello",
                    "after": after,
                    "page": page,
                    "chat": chat and str(chat),
                    "visible": visible,
                    "fresh": fresh,
                }
            )
        )

    def tell(self, **message):
        self.ws.send(json.dumps(message))

    def _next(self, timeout):
        """The next frame's JSON, or None when the server closed the socket."""
        self.ws.settimeout(timeout)
        opcode = websocket.ABNF.OPCODE_PING
        while opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):  # keep-alives, not pushes
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except (websocket.WebSocketConnectionClosedException, ConnectionError):
                self.close_code = 1006  # gone without a close frame
                return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.close_code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 1005
            return None
        message = json.loads(frame.data)
        if message.get("attached"):  # from now on every push reaches this page
            self.attached = True
        else:
            if message.get("id"):
                self.last_id = message["id"]
            self.pushes.append(message)
        return message

    def receive(self, timeout=10):
        """The next push (a dict), or None when the server closed the socket."""
        deadline = time.monotonic() + timeout
        while (message := self._next(max(0.01, deadline - time.monotonic()))) is not None:
            if not message.get("attached"):
                return message
        return None

    def wait_until_attached(self, timeout=10):
        """Returns once the server says the page gets every push (and its person counts as online)."""
        deadline = time.monotonic() + timeout
        while not self.attached:
            left = deadline - time.monotonic()
            if left <= 0 or self._next(left) is None:
                raise AssertionError(f"not attached within {timeout}s (closed with {self.close_code})")

    def wait_for(self, test, timeout=10):
        """Receive until a push passes `test`; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching push within {timeout}s; got {self.pushes[-3:]}")
            push = self.receive(left)
            if push is None:
                raise AssertionError(f"socket closed with {self.close_code} while waiting")
            if test(push):
                return push

    def wait_for_text(self, text, timeout=10):
        return self.wait_for(lambda push: text in push.get("content", ""), timeout)

    def close(self):
        try:
            self.ws.close()
        except (OSError, websocket.WebSocketException):
            pass


class EventPage:
    """An open page on /events (the fallback)."""

    def __init__(self, base_url, cookies, chat=None, after="0-0", last_event_id=None, page="test-page"):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {"Cookie": cookie_header(cookies), "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        query = urlencode({"after": after, "chat": str(chat or ""), "page": page})
        self.connection.request("GET", f"/events?{query}", headers=headers)
        self.response = self.connection.getresponse()
        self.events = []

    def receive(self):
        """The next event: {"id", "event", "data"}."""
        event = {"id": None, "event": None, "data": []}
        while True:
            line = self.response.readline().decode()
            if line == "":
                return None
            line = line.rstrip("\n")
            if not line:
                if event["data"] or event["event"]:
                    event["data"] = "\n".join(event["data"])
                    self.events.append(event)
                    return event
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                event["data"].append(value)
            elif field in ("id", "event"):
                event[field] = value

    def wait_for_text(self, text):
        while True:
            event = self.receive()
            if event is None:
                raise AssertionError("the event stream ended")
            if text in event["data"]:
                return event

    def wait_for_event(self, name):
        """The next event named `name` (such as "attached"); AssertionError if the stream ends first."""
        while True:
            event = self.receive()
            if event is None:
                raise AssertionError(f"the event stream ended before {name!r}")
            if event["event"] == name:
                return event

    def close(self):
        self.connection.close()


class Pushes:
    """Listens on users' push channels, as a web process's hub does."""

    def __init__(self, redis_url, channels):
        self.received = []
        self.pubsub = redis_at(redis_url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(**{channel: self._on_message for channel in channels})
        self.thread = self.pubsub.run_in_thread(sleep_time=0.01, daemon=True)

    def _on_message(self, message):
        if message["data"].startswith("! "):  # an order to the hubs (see push.Close), not a push
            return
        self.received.append((message["channel"], json.loads(message["data"].partition(" ")[2])))

    def on(self, channel):
        return [push for name, push in self.received if name == channel]

    def stop(self):
        self.thread.stop()
        self.thread.join(2)
        self.pubsub.close()
