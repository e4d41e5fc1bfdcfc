"""A page's WebSocket as the event loop serves it, over a real socket pair,
with wsproto playing the browser."""

import json

import gevent
import pytest
from flask import Flask
from gevent import socket
from simple_websocket import Server
from wsproto.connection import Connection as Protocol
from wsproto.connection import ConnectionType
from wsproto.events import CloseConnection, Ping, Pong, TextMessage

from app.realtime.hub import Connection
from app.realtime.pagesocket import MAX_MESSAGE, NoThread, PageSocket


class Browser:
    """The other end of a page's socket."""

    def __init__(self, sock):
        self.sock = sock
        self.protocol = Protocol(ConnectionType.CLIENT)
        self.waiting = []

    def send(self, *events):
        self.sock.sendall(b"".join(self.protocol.send(event) for event in events))

    def next_event(self, timeout=2):
        with gevent.Timeout(timeout):
            while not self.waiting:
                data = self.sock.recv(65536)
                self.protocol.receive_data(data or None)
                self.waiting += self.protocol.events()
        return self.waiting.pop(0)


@pytest.fixture
def pair():
    page_end, browser_end = socket.socketpair()
    yield PageSocket(page_end), Browser(browser_end)
    browser_end.close()


def serve(page, handle=None):
    """Serve `page`, recording what it hands on (to `handle` too, if given)."""
    connection = Connection("someone")
    connection.waiting.clear()  # no replay: that needs Redis
    got = {"messages": [], "ended": 0}

    def on_message(connection, text):
        got["messages"].append(text)
        if handle:
            handle(text)

    def on_end(connection):
        got["ended"] += 1
        connection.close(1000)

    page.serve(Flask(__name__), connection, on_message, on_end)
    return connection, got


def content(event):
    """The HTML a push frame carries."""
    return json.loads(event.data)["content"]


@pytest.fixture
def served(pair):
    page, browser = pair
    connection, got = serve(page)
    yield page, browser, connection, got
    page._end()


def wait_until(test, seconds=2):
    with gevent.Timeout(seconds):
        while not test():
            gevent.sleep(0.01)


def test_the_hello_is_read_before_serving_and_a_silent_page_times_out(pair):
    page, browser = pair
    assert page.receive(0.1) is None
    browser.send(TextMessage('{"type": "hello"}'))
    assert page.receive(1) == '{"type": "hello"}'


def test_closing_before_serving_sends_the_code_and_waits_for_the_reply(pair):
    page, browser = pair
    closing = gevent.spawn(page.close, 4401, "Sign in again")
    event = browser.next_event()
    assert isinstance(event, CloseConnection) and (event.code, event.reason) == (4401, "Sign in again")
    assert not closing.dead  # it waits for the browser's close frame
    browser.send(event.response())
    closing.join(1)
    assert page.ended


def test_a_page_that_closed_right_after_its_hello_ends_once_served(pair):
    page, browser = pair
    browser.send(TextMessage("hello"), CloseConnection(1001))
    assert page.receive(1) == "hello"
    assert isinstance(browser.next_event(), CloseConnection)  # the reply, before serving
    _, got = serve(page)
    wait_until(lambda: got["ended"] == 1)


def test_a_message_in_pieces_is_handed_on_whole(served):
    page, browser, _, got = served
    browser.send(TextMessage('{"type": ', message_finished=False))
    gevent.sleep(0.05)
    browser.send(TextMessage('"typing"}'), TextMessage("second"))
    wait_until(lambda: len(got["messages"]) == 2)
    assert got["messages"] == ['{"type": "typing"}', "second"]


def test_an_idle_page_holds_no_greenlet(served):
    page, browser, connection, _ = served
    browser.send(TextMessage("hi"))
    connection.tell("a push")
    assert content(browser.next_event()) == "a push"
    wait_until(lambda: page.reader is None and page.writer is None)


def test_a_ping_gets_its_pong(served):
    _, browser, _, _ = served
    browser.send(Ping(b"are you there"))
    event = browser.next_event()
    assert isinstance(event, Pong) and event.payload == b"are you there"


def test_a_page_that_misses_a_round_of_pings_is_ended(served):
    page, browser, _, got = served
    page.ping()
    assert isinstance(browser.next_event(), Ping)
    browser.send(Pong())
    wait_until(lambda: not page.pong_due)
    page.ping()
    assert isinstance(browser.next_event(), Ping)  # not answered this time
    page.ping()
    wait_until(lambda: got["ended"] == 1)
    assert browser.sock.recv(10) == b""


def test_pushes_go_out_in_order_and_the_close_waits_for_the_browser(served):
    page, browser, connection, got = served
    for n in range(3):
        connection.tell(f"push {n}")
    assert [content(browser.next_event()) for _ in range(3)] == ["push 0", "push 1", "push 2"]
    connection.close(1012)
    event = browser.next_event()
    assert isinstance(event, CloseConnection) and event.code == 1012
    gevent.sleep(0.1)
    assert got["ended"] == 0  # still waiting for the browser's close frame
    browser.send(event.response())
    wait_until(lambda: got["ended"] == 1)


def test_a_browser_that_closes_gets_the_reply_and_the_page_ends_once(served):
    _, browser, _, got = served
    browser.send(CloseConnection(1001, "going away"))
    event = browser.next_event()
    assert isinstance(event, CloseConnection) and event.code == 1001
    wait_until(lambda: got["ended"] == 1)
    gevent.sleep(0.1)
    assert got["ended"] == 1


def test_a_browser_gone_without_a_word_ends_the_page(served):
    _, browser, _, got = served
    browser.sock.close()
    wait_until(lambda: got["ended"] == 1)


def test_a_message_too_big_closes_with_1009(served):
    _, browser, _, got = served
    browser.send(TextMessage("x" * (MAX_MESSAGE + 1)))
    event = browser.next_event()
    assert isinstance(event, CloseConnection) and event.code == 1009
    wait_until(lambda: got["ended"] == 1)
    assert got["messages"] == []


def test_a_frame_that_arrives_while_a_message_is_handled_wakes_the_loop_once(pair):
    """The event loop's watcher rests while a reader handles a message: a
    frame arriving meanwhile is read after it, without the loop spinning."""
    page, browser = pair
    wake_ups = []
    readable = page._readable

    def counted():
        wake_ups.append(1)
        readable()

    page._readable = counted
    connection, got = serve(page, handle=lambda text: gevent.sleep(0.5) if text == "slow" else None)
    browser.send(TextMessage("slow"))
    wait_until(lambda: got["messages"] == ["slow"])
    browser.send(TextMessage("next"))
    wait_until(lambda: got["messages"] == ["slow", "next"])
    assert len(wake_ups) <= 3  # without the rest: about 400,000 in those 0.5 s
    page._end()


def test_simple_websocket_gives_take_what_it_relies_on():
    """PageSocket.take reaches into simple-websocket's Server (see its
    docstring): this fails on a version that changes what it relies on."""
    page_end, browser_end = socket.socketpair()
    environ = {
        "werkzeug.socket": page_end,
        "HTTP_HOST": "parley.test",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
    }
    started = []

    class Recorded(NoThread):
        def start(self):
            started.append(self)

    ws = Server(environ, thread_class=Recorded)
    assert ws.connected and started == [ws.thread]  # its reader is ours, and starts nothing
    for name in ("sock", "connected", "environ", "ws", "event", "thread"):
        assert hasattr(ws, name), f"simple-websocket's Server has no {name!r} any more"
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += browser_end.recv(1024)
    assert answer.startswith(b"HTTP/1.1 101")
    page = PageSocket.take(ws)
    assert ws.connected is False and ws.sock is None  # flask-sock sends no close, the request's objects go
    browser = Browser(browser_end)
    browser.send(TextMessage("hello"))
    assert page.receive(2) == "hello"
    browser_end.close()
    page.close(1000)
