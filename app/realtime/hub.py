"""The hub: one Redis subscription per web process, fanning pushes out to the
open pages (WebSockets and event streams) of the people this process serves.
It is the one owner of this process's open pages: it keeps them, pings them,
records their presence, and closes them all when the process stops.

Each open page is a Connection with a bounded queue and a single writer. A
WebSocket's writer runs only while pushes wait, so an idle page holds no
greenlet for it (memory is what limits open pages per process). A page that
falls too far behind is closed with 1013 ("try again later"), so it
reconnects and resumes from its last stream id instead of growing memory
here. After losing Redis, the hub subscribes again and every page resumes
from its last id (or, if that is gone, is told to refresh).
"""

import logging
import time
import uuid
from collections import defaultdict, deque

import gevent
from bson import ObjectId
from gevent.event import Event
from gevent.queue import Queue

from app import tracing
from app.connections import redis_client
from app.outages import is_outage
from app.realtime import hooks, presence, push
from app.realtime.push import Push

log = logging.getLogger(__name__)

QUEUE_LIMIT = 256  # pushes waiting for one page before it counts as too slow
KEEPALIVE = 15  # seconds between comments on an idle event stream
PING_EVERY = 25  # seconds; a page that does not answer for a whole round is gone
PING_SLICES = 100  # a round pings a hundredth of the pages every quarter of a second
RECONCILE_EVERY = 12  # heartbeats (a minute)
OPENED_ELSEWHERE = 4409  # closes a person's oldest page past presence.PAGES_PER_PERSON
RESYNC = "resync"
CLOSE = "close"

_hub = None
_close_listeners = []  # called with each order to close pages, and the pages it closed here


def on_close_order(listener):
    """Call `listener(order, closed)` whenever this process's hub carries out
    an order to close pages (push.Close), `closed` being the Connections it
    closed here."""
    _close_listeners.append(listener)


def get_hub(app):
    """This process's hub (created on first use, after gunicorn forks)."""
    global _hub
    if _hub is None:
        _hub = Hub(app)
    return _hub


def shutdown(timeout):
    """The web process is stopping: close every page with 1012 ("service
    restart") so it reconnects to a process that stays, and wait (at most
    `timeout` seconds) until they are closed."""
    if _hub is not None:
        _hub.shutdown(timeout)


class Connection:
    """One open page. Pushes wait here, in order, until its writer takes them:
    the replay of what the page missed first, then live ones. `transport` is
    the PageSocket serving it (None for an event stream); `state` is what
    features keep about the page (see hooks.py)."""

    def __init__(self, user_id, page_id=None, after=push.NO_PUSHES_YET, session_id=None):
        self.id = presence.connection_id()
        self.user_id = user_id
        self.session_id = session_id  # the sign-in it belongs to: signing out closes it
        self.page_id = page_id or self.id
        self.after = after
        self.state = {}
        self.transport = None
        self.last_id = None
        self.close_code = None
        self.finished = False  # the writer took the close
        self.waiting = deque([RESYNC])
        self.wake = _nothing

    def listen(self, wake):
        """From now on call `wake()` whenever pushes wait, and now for the replay."""
        self.wake = wake
        wake()

    def offer(self, item):
        if self.close_code is not None:
            return
        if len(self.waiting) >= QUEUE_LIMIT:
            log.warning("closing a page that fell %d pushes behind", QUEUE_LIMIT)
            self.close(1013)
            return
        self.waiting.append(item)
        self.wake()

    def tell(self, html):
        """A push for this page alone, not kept for replay."""
        self.offer(Push(None, html))

    def close(self, code):
        if self.close_code is not None:
            return
        self.close_code = code
        # Nothing queued goes out now: the page resumes from the last push it
        # got, so sending a later one after dropping an earlier would lose it.
        self.waiting.clear()
        self.waiting.append(CLOSE)
        self.wake()

    def ready(self):
        """Each Push waiting now, never one twice; ends when none is left, or
        at the close (then `finished`)."""
        while self.waiting:
            item = self.waiting.popleft()
            if item == CLOSE:
                self.finished = True
                return
            if item == RESYNC:
                yield from self._replay(self.last_id or self.after)
                continue
            if item.id is not None:
                if self.last_id and push.stream_order(item.id) <= push.stream_order(self.last_id):
                    continue
                self.last_id = item.id
            yield item

    def deliveries(self, keepalive):
        """`ready`'s pushes, waiting for more in between, for a writer that
        stays (an event stream); None after `keepalive` idle seconds."""
        arrived = Event()
        self.listen(arrived.set)
        while True:
            yield from self.ready()
            if self.finished:
                return
            arrived.clear()
            if not self.waiting and not arrived.wait(keepalive):
                yield None

    def _replay(self, after):
        pushes = push.since(self.user_id, after)
        if pushes is None:
            self.last_id = push.last_id(self.user_id)
            yield Push(self.last_id, refresh=True)
            return
        self.last_id = self.last_id or after
        for item in pushes:
            self.last_id = item.id
            yield item


def _nothing():
    pass


class Hub:
    def __init__(self, app):
        self.app = app
        self.id = uuid.uuid4().hex[:16]  # this process, in presence records
        self.pages = defaultdict(set)  # user id -> their open Connections here
        self.subscriptions = {}  # channel -> Event, set once Redis confirms it
        self.commands = Queue()  # (un)subscribe requests, for the listener alone
        self.started = False
        self.stopping = False

    def start(self):
        if not self.started:
            # Before the first connection counts as live. Marked started only
            # after it: a Redis refusing it (down, OOM) fails this page, and
            # the next page starts the hub again, rather than finding it
            # started with nothing listening.
            presence.heartbeat(self.id)
        if not self.started:  # another page may have started it while this one beat
            self.started = True
            for loop in (self._listen, self._heartbeat, self._ping):
                gevent.spawn(loop)

    def attach(self, connection):
        """Start delivering the user's pushes to `connection`; returns once
        Redis has confirmed the subscription, so nothing published after this
        is missed."""
        if self.stopping:
            connection.close(1012)
            return
        self.start()
        self.pages[connection.user_id].add(connection)
        channel = push.channel(connection.user_id)
        if channel not in self.subscriptions:
            self.subscriptions[channel] = Event()
            self.commands.put(("subscribe", channel))
        self.subscriptions[channel].wait(5)
        online, too_many = presence.connect(self.id, connection.user_id, connection.id)
        for oldest in too_many:  # wherever it is open, it says "Opened elsewhere"
            push.close_pages(connection.user_id, OPENED_ELSEWHERE, connection=oldest)
        if online:
            hooks.of(self.app).online(connection.user_id)

    def detach(self, connection):
        user_id = connection.user_id
        open_here = self.pages.get(user_id, set())
        open_here.discard(connection)
        if not open_here:
            self.pages.pop(user_id, None)
            channel = push.channel(user_id)
            self.subscriptions.pop(channel, None)
            self.commands.put(("unsubscribe", channel))
        if presence.disconnect(self.id, user_id, connection.id):
            gevent.spawn_later(presence.OFFLINE_GRACE, self._offline_unless_back, user_id)

    def connections(self):
        return [connection for connections in list(self.pages.values()) for connection in list(connections)]

    def shutdown(self, timeout):
        self.stopping = True
        for connection in self.connections():
            connection.close(1012)
        deadline = time.monotonic() + timeout
        while self.pages and time.monotonic() < deadline:
            gevent.sleep(0.05)

    def _offline_unless_back(self, user_id):
        with self.app.app_context():
            if presence.still_offline(user_id):
                hooks.of(self.app).offline(user_id)

    def _dispatch(self, channel, data):
        user_id = ObjectId(channel.rsplit(":", 1)[1])
        connections = self.pages.get(user_id)
        if not connections:
            return
        item = push.parse_published(data)
        if isinstance(item, push.Close):
            closed = [connection for connection in list(connections) if item.applies_to(connection)]
            for connection in closed:
                connection.close(item.code)
            for listener in _close_listeners:
                listener(item, closed)
            return
        tracing.pushed(item.html, "dispatched", user_id)
        for connection in list(connections):
            connection.offer(item)

    def _listen(self):
        """The process's one subscription; all (un)subscribing happens here."""
        with self.app.app_context():
            lost, backoff = False, 0.2
            while not self.stopping:
                pubsub = redis_client().pubsub()
                try:
                    for channel in list(self.subscriptions):
                        pubsub.subscribe(channel)
                    if lost:  # what was published while we were away is in the streams
                        connections = self.connections()
                        log.warning("resubscribed to Redis; %d pages resume", len(connections))
                        for connection in connections:
                            connection.offer(RESYNC)
                        lost, backoff = False, 0.2
                    self._pump(pubsub)
                except Exception as error:
                    if not is_outage(error):
                        raise
                    log.warning("lost the Redis subscription (%r); retrying in %.1fs", error, backoff)
                    lost = True
                    gevent.sleep(backoff)
                    backoff = min(backoff * 2, 5)
                finally:
                    pubsub.close()

    def _pump(self, pubsub):
        while not self.stopping:
            while not self.commands.empty():
                command, channel = self.commands.get_nowait()
                if command == "subscribe":
                    pubsub.subscribe(channel)
                elif channel not in self.subscriptions:  # nobody came back meanwhile
                    pubsub.unsubscribe(channel)
            message = pubsub.get_message(timeout=0.05)
            if message is None:
                continue
            if message["type"] == "message":
                self._dispatch(message["channel"], message["data"])
            elif message["type"] == "subscribe" and message["channel"] in self.subscriptions:
                self.subscriptions[message["channel"]].set()

    def _heartbeat(self):
        """Tell Redis this process is alive; report the users whose
        connections died with some other process; now and then, make the
        records of this process's connections match what it holds."""
        beats = 0
        features = hooks.of(self.app)
        with self.app.app_context():
            while not self.stopping:
                gevent.sleep(presence.HEARTBEAT)
                beats += 1
                started_at, started = time.time(), time.perf_counter()
                try:
                    swept = presence.heartbeat(self.id)
                    if swept or beats % RECONCILE_EVERY == 0:
                        came, gone = presence.reconcile(self.id, self._held)
                        for user_id in came:
                            features.online(user_id)
                        for user_id in gone:
                            gevent.spawn_later(presence.OFFLINE_GRACE, self._offline_unless_back, user_id)
                    for user_id in presence.sweep():
                        features.offline(user_id)
                except Exception as error:  # the next beat tries again; a bug is logged, not fatal
                    level = logging.WARNING if is_outage(error) else logging.ERROR
                    log.log(level, "presence heartbeat failed: %r", error)
                tracing.event("heartbeat", started_at, f"{(time.perf_counter() - started) * 1000:.1f}")

    def _held(self):
        return {connection.id: connection.user_id for connection in self.connections()}

    def _ping(self):
        """Ping every page's socket once a round, so one whose network went
        away without a word is noticed (and no longer counts as online). A
        round is spread over PING_EVERY in PING_SLICES slices, each page in
        the same slice every round (by its id): pinging a thousand pages at
        once held the event loop for 241 ms, and every send waited behind it."""
        while not self.stopping:
            for number in range(PING_SLICES):
                gevent.sleep(PING_EVERY / PING_SLICES)
                started_at, started = time.time(), time.perf_counter()
                for connection in self.connections():
                    if connection.transport is not None and int(connection.id[-4:], 16) % PING_SLICES == number:
                        connection.transport.ping()
                tracing.event("ping", started_at, f"{(time.perf_counter() - started) * 1000:.1f}")
