"""Pushes: HTML for one user's open pages, and the same change as events
for the user's API clients (Socket.IO, see app/api/events.py).

Every push goes out on the user's Redis channel, which the web processes'
hubs listen to. A replayable push is also appended to the user's capped
stream, and its stream id travels with it, so a page that reconnects can
replay what it missed. Typing is only of the moment: it is published, not
kept.
"""

import json
from typing import NamedTuple

from flask import current_app

from app.connections import key, redis_client

# A push is kept for PUSH_REPLAY_SECONDS (and at most STREAM_LENGTH per
# person, room for a page closed for falling QUEUE_LIMIT behind to resume):
# long enough for a page to resume after a dropped connection or a web
# process's restart; a page away longer refreshes its regions instead.
# Kept pushes are most of Parley's Redis memory, about 3.5 KB per message
# (measured: README "Deploying"), so the window is what sizes the plan.
STREAM_LENGTH = 500
NO_PUSHES_YET = "0-0"

# XADD and PUBLISH in one step, so the published push carries its stream id;
# pushes older than the window go (by MINID: a time, as stream ids are).
# A published push is "<stream id, or - when it is not kept> <html>"; an
# order to the hubs is "! close <code> <which pages: *, s:<session>, c:<connection>>".
PUSH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'html', ARGV[1])
local now = redis.call('TIME')
redis.call('XTRIM', KEYS[1], 'MINID', '~', (now[1] - ARGV[4]) * 1000)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[2], id .. ' ' .. ARGV[1])
return id
"""


class Push(NamedTuple):
    """What one page gets: HTML with its stream id (None when it is not
    kept) and the events an API client gets for the same change (their JSON
    text, or None: pages never parse them); or, with `refresh`, word that the page must fetch its regions
    afresh (as of stream id `id`); or, with `attached`, word that from now on
    it gets every push (what came before was replayed)."""

    id: str | None
    html: str = ""
    events: str | None = None
    refresh: bool = False
    attached: bool = False

    @property
    def for_pages(self):
        """False for a push of events alone, which pages have nothing to show of."""
        return bool(self.html) or self.refresh or self.attached


ATTACHED = Push(None, attached=True)


class Close(NamedTuple):
    """An order to the hubs: close the user's pages with `code`, all of them
    or those of one session or connection."""

    code: int
    session: str | None = None
    connection: str | None = None

    def applies_to(self, page):
        return (self.session is None or page.session_id == self.session) and (
            self.connection is None or page.id == self.connection
        )


def frame(push):
    """The JSON text a page receives over its WebSocket."""
    if push.refresh:
        return json.dumps({"refresh": True, "id": push.id})
    if push.attached:
        return '{"attached": true}'
    return json.dumps({"id": push.id, "content": push.html} if push.id else {"content": push.html})


# A push with events is kept and published as EVENTS_MARK, their JSON, EVENTS_MARK,
# then the HTML: JSON text never holds the mark (json.dumps escapes control
# characters), and a push without events is its HTML alone, as before.
EVENTS_MARK = "\x00"


def body(html, events):
    """What is kept and published of a push: its HTML, after its events (each
    already JSON, see Outbox.add) if it has any."""
    if not events:
        return html
    return EVENTS_MARK + "[" + ",".join(events) + "]" + EVENTS_MARK + html


def unpack(entry_id, text):
    """The Push in a kept or published body (see `body`)."""
    if text.startswith(EVENTS_MARK):
        events, _, html = text[1:].partition(EVENTS_MARK)
        return Push(entry_id, html, events)
    return Push(entry_id, text)


def parse_published(data):
    """The Push, or the Close, in a published message (see PUSH_SCRIPT)."""
    entry_id, _, text = data.partition(" ")
    if entry_id == "!":
        _, code, which = text.split(" ")
        kind, _, name = which.partition(":")
        return Close(int(code), session=name if kind == "s" else None, connection=name if kind == "c" else None)
    return unpack(None if entry_id == "-" else entry_id, text)


def close_pages(user_id, code, session=None, connection=None):
    """Have every web process close the user's open pages (those of one
    session or connection, if given) with `code`."""
    which = f"s:{session}" if session else f"c:{connection}" if connection else "*"
    redis_client().publish(channel(user_id), f"! close {code} {which}")


def channel(user_id):
    return key("user", user_id)


def stream(user_id):
    return key("stream", user_id)


def forget(user_id):
    """The account is going: its pushes kept for replay go too."""
    redis_client().delete(stream(user_id))


def last_id(user_id):
    """The id of the user's newest push: a page rendered now has seen everything up to it."""
    newest = redis_client().xrevrange(stream(user_id), count=1)
    return newest[0][0] if newest else NO_PUSHES_YET


def as_json(event):
    """An event as JSON text, made once however many people get it (`events`
    may hold the text already: a message goes to both members)."""
    return event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))


class Outbox:
    """Pushes gathered during one piece of work, sent in one Redis round trip:
    what one person gets from it goes as one push, in the order added. Each
    change is added once, as the HTML its pages show and as the events
    ([name, data] pairs, see app/chats/present.py) its API clients get."""

    def __init__(self):
        self.pushes = {}
        self.events = {}

    def add(self, user_id, html="", replayable=True, events=()):
        if html.strip():
            self.pushes.setdefault((user_id, replayable), []).append(html)
        if events:
            self.pushes.setdefault((user_id, replayable), [])
            self.events.setdefault((user_id, replayable), []).extend(map(as_json, events))

    def send(self, pipe=None):
        """Send everything; with `pipe`, queue the commands on it for the caller to execute."""
        pushes, events, self.pushes, self.events = self.pushes, self.events, {}, {}
        current_app.extensions.get("push_recorder", send_through_redis)(pushes, pipe, events)


def send_through_redis(pushes, pipe=None, events=None):
    """{(user id, replayable): [html, ...]} out on each user's channel (and
    stream), with `events` {(user id, replayable): [event, ...]}."""
    own_pipe = pipe is None
    events = events or {}
    pipe = redis_client().pipeline(transaction=False) if own_pipe else pipe
    for (user_id, replayable), parts in pushes.items():
        html = body("".join(parts), events.get((user_id, replayable)))
        if replayable:
            # EVAL, as in numbering: no SCRIPT EXISTS round trip before the pipeline.
            # As a command: a Redis Cluster pipeline has no eval() method, but routes EVAL by its key.
            window = current_app.config["PUSH_REPLAY_SECONDS"]
            pipe.execute_command("EVAL", PUSH_SCRIPT, 1, stream(user_id), html, channel(user_id), STREAM_LENGTH, window)
        else:
            pipe.execute_command("PUBLISH", channel(user_id), "- " + html)  # as a command, for a cluster's pipeline
    if own_pipe:
        pipe.execute()


def stream_order(stream_id):
    """Stream ids compare as (milliseconds, sequence)."""
    milliseconds, _, sequence = stream_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def since(user_id, after):
    """The replayable pushes after stream id `after`; None if some are gone
    (trimmed off the capped stream, or lost with Redis), when the page must
    fetch its regions afresh instead."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.xrange(stream(user_id), after, after, count=1)
    pipe.xrange(stream(user_id), "(" + after if after != NO_PUSHES_YET else "-", "+")
    still_there, entries = pipe.execute()
    if after != NO_PUSHES_YET and not still_there:
        return None
    return [unpack(entry_id, fields["html"]) for entry_id, fields in entries]
