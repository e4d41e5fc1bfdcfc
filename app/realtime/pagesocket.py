"""An open page's WebSocket, once flask-sock has done the handshake.

simple-websocket, under flask-sock, keeps two greenlets for every socket as
long as it is open: the view's, waiting in receive(), and its reader thread.
Their saved stacks and frames were most of what an idle page cost. Here the
process's event loop watches every page's socket, and a greenlet runs only
while a page has something to read or to send, so an idle page is its
socket, its protocol state (wsproto's, as simple-websocket uses) and its
Connection.

After `serve`, only the writer greenlet writes to the socket: the reader
leaves its replies (pongs, the close reply) in the outbox for it. The hub
owns the page (its Connection) and pings it.

flask-sock does the handshake, as the stack has it; `take` then reaches into
simple-websocket's Server for the socket and lets go of the rest. It relies
on that Server's attributes (`sock`, `connected`, `environ`, `ws`, `event`,
`thread`) and on its `thread_class`: tests/unit/test_pagesocket.py pins
them with a contract test that fails on a version that changes them. Doing
the handshake here with wsproto instead would mean answering the upgrade
outside flask-sock's route, for no gain while that contract holds.
"""

import logging
import time

import gevent
from wsproto.connection import Connection as Protocol
from wsproto.connection import ConnectionState, ConnectionType
from wsproto.events import CloseConnection, Ping, Pong, TextMessage
from wsproto.utilities import LocalProtocolError

from app import tracing
from app.realtime.push import frame

log = logging.getLogger(__name__)

RECEIVE_BYTES = 4096
MAX_MESSAGE = 64 * 1024  # a page sends a hello, typing and viewing: a few hundred bytes
CLOSE_WAIT = 2  # seconds to wait for the browser's close frame after ours
SEND_TIMEOUT = 30  # a page that takes nothing for this long is gone


class NoThread:
    """simple-websocket's `thread_class`: starts no reader thread, since a
    PageSocket reads the socket itself."""

    name = "page socket"

    def __init__(self, target):
        pass

    def start(self):
        pass


class PageSocket:
    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(SEND_TIMEOUT)
        self.protocol = Protocol(ConnectionType.SERVER)
        self.outbox = []  # frames the reader left for the writer
        self.parts = []  # of a text message still arriving
        self.size = 0
        self.received = []  # whole messages, not yet handled
        self.over = False  # the close handshake is done or the socket is gone
        self.ended = False
        self.pong_due = False
        self.app = self.connection = self.on_message = self.on_end = None
        self.watcher = self.reader = self.writer = None

    @classmethod
    def take(cls, ws):
        """The page's socket, taken from flask-sock's `ws` (made with NoThread)."""
        sock = ws.sock.dup()  # gunicorn closes its own descriptor when the view returns
        ws.connected = False  # so flask-sock sends no close frame after the view
        # flask-sock keeps `ws` in a class it makes per request, which only the
        # cycle collector frees: let go of the request's objects now, so they
        # are freed at once and their memory serves the next page.
        ws.environ = ws.ws = ws.sock = ws.event = ws.thread = None
        return cls(sock)

    # Before `serve`: the view's greenlet reads and writes.

    def receive(self, timeout):
        """The next text message, waiting up to `timeout` seconds in this
        greenlet; None if none came or the page went."""
        deadline = time.monotonic() + timeout
        while not self.received and not self.over:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(RECEIVE_BYTES)
            except TimeoutError:
                return None
            except OSError:
                data = b""
            finally:
                self.sock.settimeout(SEND_TIMEOUT)
            self._take_in(data)
            self._flush()
        return self.received.pop(0) if self.received else None

    def close(self, code, reason=""):
        """Close with `code`. Before `serve`, send it now and wait (briefly)
        for the browser's close frame, so the code reaches it before the TCP
        connection goes; after, the writer does it behind any pushes."""
        if self.connection is not None:
            self.connection.close(code)
            return
        try:
            if self.protocol.state is ConnectionState.OPEN:
                self.sock.sendall(self.protocol.send(CloseConnection(code, reason)))
            deadline = time.monotonic() + CLOSE_WAIT
            while not self.over and time.monotonic() < deadline:
                self.receive(deadline - time.monotonic())
        except OSError:
            pass
        self._end()

    # Serving: the event loop watches the socket.

    def serve(self, app, connection, on_message, on_end):
        """From now on deliver the connection's pushes, hand each message to
        `on_message(connection, text)` and, once the page is gone, call
        `on_end(connection)`, both in a request context of their own (the
        partials they render use url_for)."""
        self.app, self.connection = app, connection
        self.on_message, self.on_end = on_message, on_end
        connection.transport = self  # its hub pings it
        self.watcher = gevent.get_hub().loop.io(self.sock.fileno(), 1)
        connection.listen(self.wake)
        if self.received:  # what came with the hello
            self.reader = gevent.spawn(self._read, False)
        else:
            self.watcher.start(self._readable)

    def wake(self):
        """Something waits to be sent: start the writer unless it runs."""
        if self.writer is None and not self.ended:
            self.writer = gevent.spawn(self._write)

    def ping(self):
        if self.pong_due:
            gevent.spawn(self._end)
        elif self.protocol.state is ConnectionState.OPEN:
            self.pong_due = True
            self.outbox.append(self.protocol.send(Ping()))
            self.wake()

    def _readable(self):
        # Called by the event loop, which must not wait: reading waits for Redis.
        # The watcher stops until the reader is done; else, while a handler
        # waits, every arriving frame would wake the loop again and again.
        self.watcher.stop()
        if self.reader is None and not self.ended:
            self.reader = gevent.spawn(self._read)

    def _read(self, recv=True):
        try:
            if recv:
                try:
                    self._take_in(self.sock.recv(RECEIVE_BYTES))
                except TimeoutError:
                    pass  # woken with nothing to read after all
                except OSError:
                    self._take_in(b"")
            if self.received:  # most reads are pongs: they need no request context
                with self.app.test_request_context():
                    while self.received and not self.over:
                        self.on_message(self.connection, self.received.pop(0))
        except Exception:
            log.exception("reading a page's message failed")
            self.connection.close(1011)
        finally:
            self.reader = None
        if self.outbox:
            self.wake()
        elif self.over:
            self._end()
        if not self.ended:
            self.watcher.start(self._readable)

    def _write(self):
        connection = self.connection
        try:
            with self.app.app_context():
                while self.outbox or connection.waiting:
                    self._flush()
                    for push in connection.ready():
                        if push.for_pages and self.protocol.state is ConnectionState.OPEN:
                            self.sock.sendall(self.protocol.send(TextMessage(frame(push))))
                            tracing.pushed(push.html, "written", connection.user_id)
                        self._flush()
                    if connection.finished and self.protocol.state is ConnectionState.OPEN:
                        self.sock.sendall(self.protocol.send(CloseConnection(connection.close_code or 1000)))
                        gevent.spawn_later(CLOSE_WAIT, self._end)  # unless the browser answers first
                if self.over:
                    self._end()
        except OSError:
            self._end()
        except Exception:
            log.exception("push writer failed")
            self._end()
        finally:
            # Nothing can have arrived since the loop found both queues empty:
            # greenlets switch only where they wait, and none waits since.
            self.writer = None

    # Both.

    def _take_in(self, data):
        """Feed what arrived (b"" when the connection closed) to the protocol
        and act on it: whole messages to `received`, replies to the outbox."""
        try:
            self.protocol.receive_data(data or None)
        except LocalProtocolError:  # data after the close
            return
        for event in self.protocol.events():
            if isinstance(event, TextMessage):
                self.parts.append(event.data)
                self.size += len(event.data)
                if self.size > MAX_MESSAGE:
                    self._refuse(1009, "Message too big")
                    return
                if event.message_finished:
                    self.received.append("".join(self.parts))
                    self.parts, self.size = [], 0
            elif isinstance(event, Ping):
                self.outbox.append(self.protocol.send(event.response()))
            elif isinstance(event, Pong):
                self.pong_due = False
            elif isinstance(event, CloseConnection):
                if self.protocol.state is ConnectionState.REMOTE_CLOSING:
                    self.outbox.append(self.protocol.send(event.response()))
                elif self.protocol.state is ConnectionState.OPEN:  # the frames made no sense
                    self._refuse(event.code, event.reason)
                self.over = True
                return
            # Binary messages: pages send none, so there is nothing to do with one.

    def _refuse(self, code, reason):
        """Close at once, for a page that broke the protocol."""
        if self.protocol.state is ConnectionState.OPEN:
            self.outbox.append(self.protocol.send(CloseConnection(code, reason)))
        self.received.clear()
        self.over = True

    def _flush(self):
        while self.outbox:
            frames = b"".join(self.outbox)
            self.outbox.clear()
            self.sock.sendall(frames)

    def _end(self):
        """The page is gone: stop watching, close the socket, and tell `on_end`."""
        if self.ended:
            return
        self.ended = self.over = True
        if self.watcher is not None:
            self.watcher.close()
        self.sock.close()
        if self.connection is not None:
            with self.app.test_request_context():
                self.on_end(self.connection)

