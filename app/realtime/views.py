import json
import re
from functools import partial
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, request, stream_with_context

from app.auth.sessions import login_required
from app.chats.views import member_chat
from app.data import chats, users
from app.extensions import sock
from app.realtime import activity, presence, viewing
from app.realtime.hub import KEEPALIVE, Connection, get_hub
from app.realtime.pagesocket import PageSocket
from app.realtime.push import NO_PUSHES_YET

bp = Blueprint("realtime", __name__)

STREAM_ID = re.compile(r"^\d+-\d+$")
HELLO_TIMEOUT = 10


def same_origin():
    """The request comes from one of our own pages (never from another site)."""
    origin = request.headers.get("Origin")
    if origin:
        return urlsplit(origin).netloc == request.host
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


@bp.before_app_request
def no_compression_on_sockets():
    """Pushes are small HTML: a deflate context per socket would cost far more
    memory than it saves (and a PageSocket speaks no extensions)."""
    if request.endpoint == "realtime.websocket":
        request.environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)


def page_hello(page):
    """The page's first message: where it stands (its last stream id) and which chat it shows."""
    try:
        hello = json.loads(page.receive(HELLO_TIMEOUT) or "")
    except ValueError:
        return None
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        return None
    if not STREAM_ID.match(str(hello.get("after", ""))):
        hello["after"] = NO_PUSHES_YET
    return hello


def chat_of(text):
    """The chat id a page names, if the signed-in user is a member."""
    chat_id = chats.parse_id(text) if text else None
    members = chat_id and chats.members(chat_id)
    return chat_id if members and g.user_id in members else None


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
        return page.close(4401, "Sign in again")
    hello = page_hello(page)
    if hello is None:
        return page.close(1008, "Expected a hello")
    app = current_app._get_current_object()
    connection = Connection(g.user_id, str(hello.get("page") or ""), chat_of(hello.get("chat")), after=hello["after"])
    hub = get_hub(app)
    try:
        hub.attach(connection)
        if not hello.get("fresh"):
            connection.offer((None, json.dumps({"content": presence.snapshot(g.user_id)})))
        if connection.chat_id and hello.get("visible"):
            activity.view(connection.chat_id, g.user_id, connection.page_id, True)
    except Exception:
        leave(hub, connection)
        raise
    # Last, so a page that goes at once leaves after it counted as viewing.
    page.serve(app, connection, on_message=handle_page_message, on_end=partial(leave, hub))


def handle_page_message(connection, text):
    try:
        message = json.loads(text or "")
    except ValueError:
        return
    if not isinstance(message, dict) or not connection.chat_id:
        return
    if message.get("type") == "typing":
        connection.typing = bool(message.get("typing"))
        name = users.get(connection.user_id)["name"] if connection.typing else None  # read when needed, not per connect
        activity.typing(connection.chat_id, connection.user_id, name, connection.typing)
    elif message.get("type") == "viewing":
        activity.view(connection.chat_id, connection.user_id, connection.page_id, bool(message.get("visible")))


def leave(hub, connection):
    """A page went away: it no longer counts as viewing or typing."""
    connection.close(1000)
    hub.detach(connection)
    if connection.chat_id:
        viewing.stop(connection.chat_id, connection.user_id, connection.page_id)
        if connection.typing:
            activity.typing(connection.chat_id, connection.user_id, None, False)


@bp.get("/events")
def events():
    """Server-sent events: the same pushes, for where WebSockets are blocked."""
    if not same_origin():
        abort(403)
    if g.user_id is None:
        return Response("event: signed-out\ndata: \n\n", mimetype="text/event-stream")
    after = request.headers.get("Last-Event-ID") or request.args.get("after", "")
    after = after if STREAM_ID.match(after) else NO_PUSHES_YET
    app = current_app._get_current_object()
    page, chat = request.args.get("page"), chat_of(request.args.get("chat"))
    connection = Connection(g.user_id, page, chat, after=after)
    hub = get_hub(app)
    hub.attach(connection)

    def stream():
        try:
            yield "retry: 1000\n\n"
            for entry_id, text in connection.deliveries(KEEPALIVE):
                if text is None:
                    yield ": still here\n\n"
                    continue
                message = json.loads(text)
                if message.get("refresh"):
                    yield f"event: refresh\ndata: {message['id']}\n\n"
                    continue
                data = "".join(f"data: {line}\n" for line in message["content"].splitlines())
                yield (f"id: {entry_id}\n" if entry_id else "") + data + "\n"
        finally:
            with app.app_context():
                leave(hub, connection)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)


@bp.post("/chats/<chat_id>/typing")
@login_required
def typing(chat_id):
    """The SSE fallback's way of saying "typing" (and "stopped")."""
    chat_id, _ = member_chat(chat_id)
    user = users.get(g.user_id)
    activity.typing(chat_id, g.user_id, user["name"], request.form.get("typing") == "1")
    return "", 204


@bp.post("/chats/<chat_id>/viewing")
@login_required
def view(chat_id):
    """The SSE fallback's way of saying whether the chat is in front of the person."""
    chat_id, _ = member_chat(chat_id)
    page_id = request.form.get("page", "")[:64] or "page"
    activity.view(chat_id, g.user_id, page_id, request.form.get("visible") == "1")
    return "", 204
