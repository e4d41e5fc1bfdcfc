"""The live connection of an open page: /ws (WebSocket) and /events (the
server-sent events fallback). Both authenticate from the cookie, check the
Origin, attach the page to the hub and hand what it says to the features'
hooks; the pushes they carry are the same."""

import json
import re
from functools import partial
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, request, stream_with_context

from app.extensions import sock
from app.realtime import hooks, limits
from app.realtime.hub import KEEPALIVE, Connection, get_hub
from app.realtime.pagesocket import PageSocket
from app.realtime.push import ATTACHED, NO_PUSHES_YET

bp = Blueprint("realtime", __name__)

STREAM_ID = re.compile(r"^\d+-\d+$")
SIGNED_OUT = 4401  # the page goes to sign in
ELSEWHERE = 4409  # the person has too many pages open: this one stops and says "Opened elsewhere"
TRY_AGAIN_LATER = 1013  # hx-ws connects again, with backoff
CLOSE_EVENTS = {SIGNED_OUT: "signed-out", ELSEWHERE: "elsewhere"}  # the same, for an event stream
HELLO_TIMEOUT = 3  # seconds; a page says hello as soon as its socket opens


def same_origin():
    """The request comes from one of our own pages (never from another site)."""
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc == request.host
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


@bp.before_app_request
def before_a_handshake():
    """Refuse a socket whose IP address has too many handshakes going (see
    limits.py), before the upgrade. Pushes are small HTML: a deflate context
    per socket would cost far more memory than it saves (and a PageSocket
    speaks no extensions)."""
    if request.endpoint == "realtime.websocket":
        if not limits.begin_handshake():
            abort(429)
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


@bp.teardown_app_request
def after_a_handshake(error=None):
    limits.end_handshake()


def as_object(text):
    """The JSON object in a page's message, or None."""
    try:
        message = json.loads(text or "")
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def resume_from(after):
    return after if STREAM_ID.match(str(after or "")) else NO_PUSHES_YET


@sock.route("/ws", bp=bp)
def websocket(ws):
    """Checks the page and its hello, then hands its socket to the event loop
    (see PageSocket) and returns: an open page holds no greenlet of its own."""
    page = PageSocket.take(ws)
    try:
        open_page(page)
    except Exception:
        current_app.logger.exception("could not open a page's socket")
        page.close(1011)  # the page tries again


def open_page(page):
    if not same_origin():
        return page.close(4403, "Not from this site")
    if g.user_id is None:
        return page.close(SIGNED_OUT, "Sign in again")
    if not limits.take_open(g.user_id):
        return page.close(TRY_AGAIN_LATER, "Too many pages opened at once")
    hello = as_object(page.receive(HELLO_TIMEOUT))
    if hello is None or hello.get("type") != "hello":
        return page.close(1008, "Expected a hello")
    app = current_app._get_current_object()
    connection = attach(app, hello)
    # Last, so a page that goes at once leaves after it counted as viewing.
    page.serve(app, connection, on_message=partial(hand_on, app), on_end=partial(leave, app))


def attach(app, hello):
    """The page's Connection, attached to the hub and made known to the features."""
    connection = Connection(
        g.user_id, str(hello.get("page") or "")[:64], after=resume_from(hello.get("after")), session_id=g.session_id
    )
    try:
        get_hub(app).attach(connection)
        hooks.of(app).opened(connection, hello)
        connection.offer(ATTACHED)
    except Exception:
        leave(app, connection)
        raise
    return connection


def hand_on(app, connection, text):
    message = as_object(text)
    if message is not None:
        hooks.of(app).message(connection, message)


def leave(app, connection):
    """A page went away."""
    connection.close(1000)
    get_hub(app).detach(connection)
    hooks.of(app).closed(connection)


@bp.get("/events")
def events():
    """Server-sent events: the same pushes, for where WebSockets are blocked.
    The page says what a socket's hello would in the query; what it does
    (typing, viewing) it tells with POSTs."""
    if not same_origin():
        abort(403)
    if g.user_id is None:
        return Response("event: signed-out\ndata: \n\n", mimetype="text/event-stream")
    if not limits.take_open(g.user_id):
        return Response(f"retry: {limits.opens_retry() * 1000:.0f}\n\n", mimetype="text/event-stream")
    if not limits.take_stream():
        return Response(f"retry: {limits.STREAM_RETRY * 1000}\n\n", mimetype="text/event-stream")
    app = current_app._get_current_object()
    hello = {
        "page": request.args.get("page"),
        "chat": request.args.get("chat"),
        "after": request.headers.get("Last-Event-ID") or request.args.get("after"),
        # A stream that reconnects cannot say it is not fresh, and presence
        # changes told to attached pages are not kept: every connect is told
        # who is online (see chats.live.presence_snapshot).
        "fresh": False,
    }
    try:
        connection = attach(app, hello)
    except Exception:
        limits.stream_closed()
        raise

    def stream():
        yield "retry: 1000\n\n"
        for push in connection.deliveries(KEEPALIVE):
            if push is None:
                yield ": still here\n\n"
            elif push.refresh:
                yield f"event: refresh\ndata: {push.id}\n\n"
            elif push.attached:
                yield "event: attached\ndata: \n\n"
            elif push.html:
                data = "".join(f"data: {line}\n" for line in push.html.splitlines())
                yield (f"id: {push.id}\n" if push.id else "") + data + "\n"
        if connection.close_code in CLOSE_EVENTS:  # what a socket's close code says
            yield f"event: {CLOSE_EVENTS[connection.close_code]}\ndata: \n\n"

    def gone():
        limits.stream_closed()
        with app.test_request_context():
            leave(app, connection)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)
    response.call_on_close(gone)  # called by the server when the stream ends, or if it never started
    return response
