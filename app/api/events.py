"""The original's Socket.IO events (v4, at /socket.io), for its clients.

A socket is one more open page to realtime's hub: it is authenticated by
the session cookie (never by the query's `userId`, which anyone could set),
counts in presence, is closed by a sign-out, and gets the same pushes as
the person's pages, from the same places (the chat worker, receipts, typing,
presence, new chats), each push carrying its change as events beside its
HTML. Here they are named and shaped as the original did, and given only to
a socket in the chat's room where the original gave them to a room. What a
socket says (typing, viewing, reading) goes through the same code as a
page's, each chat checked for membership."""

import json

import gevent
import socketio
from flask import g
from gevent import monkey

from app.api import origins, shapes
from app.auth import sessions
from app.chats import contacts, live, receipts
from app.data import chats, messages
from app.realtime import hooks, limits, presence, push
from app.realtime.hub import Connection, get_hub
from app.realtime.push import Outbox

RENEW_EVERY = 10  # seconds: a socket's "viewing" is renewed as a page's is (live.VIEWING_EVERY)
RECONNECT = (1012, 1013)  # the process stops, or the socket fell behind: the client comes back


def init_app(app):
    server = socketio.Server(
        async_mode="gevent" if monkey.is_module_patched("socket") else "threading",
        cors_allowed_origins=lambda origin, environ: origins.allowed(
            origin, environ.get("HTTP_HOST"), app.config["API_ORIGINS"]
        ),
        cors_credentials=True,
        max_http_buffer_size=64 * 1024,  # what a socket says is small: typing, viewing, reading
    )
    Events(app, server)
    inner = app.wsgi_app
    if hasattr(inner, "app") and type(inner).__name__ == "ProxyFix":  # behind the router: Socket.IO sees it too
        inner.app = socketio.WSGIApp(server, inner.app)
    else:
        app.wsgi_app = socketio.WSGIApp(server, inner)
    app.extensions["socketio"] = server


class Events:
    def __init__(self, app, server):
        self.app, self.server = app, server
        self.sockets = {}  # sid -> Connection
        self.renewing = None
        for name, handler in (
            ("connect", self.connect),
            ("disconnect", self.disconnect),
            ("join:chat", self.join),
            ("leave:chat", self.leave),
            ("viewing:chat", self.viewing),
            ("not:viewing:chat", self.not_viewing),
            ("typing:start", self.typing_start),
            ("typing:stop", self.typing_stop),
            ("message:read", self.read),
        ):
            server.on(name, handler)

    # Connecting and leaving

    def connect(self, sid, environ, auth=None):
        with self.app.request_context(environ):
            sessions.load_user(rotate=False)
            if g.user_id is None:
                raise socketio.exceptions.ConnectionRefusedError("Sign in again")
            # A socket holds one of gunicorn's worker_connections while open, as an event stream does.
            if not limits.take_stream():
                raise socketio.exceptions.ConnectionRefusedError("Busy: try again in a moment")
            connection = Connection(g.user_id, sid, after=push.last_id(g.user_id), session_id=g.session_id)
            connection.state.update(rooms=set(), base=f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}/")
            self.sockets[sid] = connection
            try:
                get_hub(self.app).attach(connection)
                hooks.of(self.app).opened(connection, {"fresh": True})
            except Exception:
                self.disconnect(sid)
                raise
            known = [contact for contact in contacts.of(g.user_id)]
            connection.state["online"] = {str(user) for user in presence.online([*known, str(g.user_id)])}
        connection.listen(lambda: self.wake(sid))
        self.server.emit("getOnlineUsers", sorted(connection.state["online"]), to=sid)
        if self.renewing is None:
            self.renewing = gevent.spawn(self.renew_viewing)

    def disconnect(self, sid, reason=None):
        connection = self.sockets.pop(sid, None)
        if connection is None:
            return
        limits.stream_closed()
        with self.app.test_request_context():
            connection.close(1000)
            get_hub(self.app).detach(connection)
            hooks.of(self.app).closed(connection)
            for chat_id, state in connection.state.get("typing_in", {}).items():
                if state.get("typing"):
                    live.typing(chat_id, connection.user_id, False)

    # Pushes out, as the original's events

    def wake(self, sid):
        connection = self.sockets.get(sid)
        if connection is not None and not connection.state.get("writing"):
            connection.state["writing"] = True
            gevent.spawn(self.write, sid, connection)

    def write(self, sid, connection):
        try:
            with self.app.app_context():
                while connection.waiting:
                    for item in connection.ready():
                        if item.events:
                            for name, data in self.translate(connection, json.loads(item.events)):
                                self.server.emit(name, data, to=sid)
                    if connection.finished:
                        self.close(sid, connection.close_code)
                        return
        finally:
            connection.state["writing"] = False

    def close(self, sid, code):
        """As a hub closes a page: a client told to go (signed out, opened elsewhere) stays away; one
        whose process stops reconnects, as Socket.IO clients do after a dropped transport."""
        if code in RECONNECT:
            self.server.eio.disconnect(self.server.manager.eio_sid_from_sid(sid, "/"))
        else:
            self.server.disconnect(sid)

    def translate(self, connection, events):
        """The original's [(event, data)] for Parley's events (app/chats/present.py)."""
        me, rooms = str(connection.user_id), connection.state["rooms"]
        for kind, data in events:
            chat_id = data.get("chat_id")
            if kind == "message":
                message = shapes.message(data, connection.state["base"])
                if chat_id in rooms:
                    yield "message:new", {"message": message, "chatId": chat_id, "senderId": data["sender_id"]}
                if data["sender_id"] == me and data["seen_at"] and chat_id in rooms:
                    yield "message:read", {"chatId": chat_id, "messageIds": [data["id"]]}
                if data["sender_id"] != me and not data["seen_at"]:
                    yield "chat:refresh", {"chatId": chat_id, "message": message}
            elif kind == "seen" and chat_id in rooms:
                yield "message:read", {"chatId": chat_id, "messageIds": data["ids"]}
            elif kind == "typing" and chat_id in rooms:
                yield "typing:status", {"chatId": chat_id, "userId": data["user_id"], "isTyping": data["typing"]}
            elif kind == "joined" and chat_id in rooms:
                yield "user:joined:room", {"chatId": chat_id, "userId": data["user_id"]}
            elif kind == "chat":
                yield "chat:new", {"chatId": chat_id, "createdBy": data["created_by"]}
            elif kind == "presence":
                online = connection.state["online"]
                (online.add if data["online"] else online.discard)(data["user_id"])
                yield "getOnlineUsers", sorted(online)

    # What a socket says

    def member(self, sid, chat_id):
        """(the socket's Connection, the chat's id) if its person is a member of the chat, else (None, None)."""
        connection = self.sockets.get(sid)
        chat_id = chats.parse_id(chat_id if isinstance(chat_id, str) else None)
        if connection is None or chat_id is None or not chats.membership(chat_id, connection.user_id):
            return None, None
        return connection, chat_id

    def join(self, sid, chat_id=None):
        with self.app.test_request_context():
            connection, chat_id = self.member(sid, chat_id)
            if connection is None or str(chat_id) in connection.state["rooms"]:
                return
            connection.state["rooms"].add(str(chat_id))
            if not chats.blocked_by(chat_id):
                outbox = Outbox()
                joined = ["joined", {"chat_id": str(chat_id), "user_id": str(connection.user_id)}]
                other = chats.other_member(chats.members(chat_id), connection.user_id)
                outbox.add(other, replayable=False, events=[joined])
                outbox.send()

    def leave(self, sid, chat_id=None):
        connection = self.sockets.get(sid)
        if connection is not None and isinstance(chat_id, str):
            connection.state["rooms"].discard(chat_id)

    def viewing(self, sid, chat_id=None):
        with self.app.test_request_context():
            connection, chat_id = self.member(sid, chat_id)
            if connection is None:
                return
            if connection.state.get("chat_id") not in (None, chat_id):
                self.signal(connection, {"type": "viewing", "visible": False})
                connection.state.update(viewing=False, viewing_at=0)
            connection.state["chat_id"] = chat_id
            self.signal(connection, {"type": "viewing", "visible": True})

    def not_viewing(self, sid, *args):
        connection = self.sockets.get(sid)
        if connection is not None and connection.state.get("chat_id"):
            with self.app.test_request_context():
                self.signal(connection, {"type": "viewing", "visible": False})

    def signal(self, connection, message):
        live.heard(connection.state, connection.state["chat_id"], connection.user_id, connection.page_id, message)

    def typing_start(self, sid, data=None):
        self.typing(sid, data, True)

    def typing_stop(self, sid, data=None):
        self.typing(sid, data, False)

    def typing(self, sid, data, on):
        """Typing in a chat of yours, as yourself: the payload's userId is not read."""
        with self.app.test_request_context():
            connection, chat_id = self.member(sid, data.get("chatId") if isinstance(data, dict) else None)
            if connection is None:
                return
            state = connection.state.setdefault("typing_in", {}).setdefault(chat_id, {})
            live.heard(state, chat_id, connection.user_id, connection.page_id, {"type": "typing", "typing": on})

    def read(self, sid, data=None):
        """The client read these messages of a chat of yours: they, and what was sent to you before them,
        are seen (the sender hears `message:read`)."""
        if not isinstance(data, dict) or not isinstance(data.get("messageIds"), list):
            return
        with self.app.test_request_context():
            connection, chat_id = self.member(sid, data.get("chatId"))
            if connection is None:
                return
            ids = [each for each in data["messageIds"][:500] if isinstance(each, str)]
            sender = chats.other_member(chats.members(chat_id), connection.user_id)
            found = messages.by_client_ids(sender, ids).values()
            if any(doc["chat_id"] == chat_id and doc["seen_at"] is None for doc in found):
                receipts.mark_seen(chats.get(chat_id), connection.user_id)

    def renew_viewing(self):
        """A socket says `viewing:chat` once; Parley's viewing lasts while renewed, as pages renew it."""
        while True:
            gevent.sleep(RENEW_EVERY)
            for connection in list(self.sockets.values()):
                if connection.state.get("viewing"):
                    try:
                        with self.app.test_request_context():
                            self.signal(connection, {"type": "viewing", "visible": True})
                    except Exception:  # the next round tries again
                        self.app.logger.exception("renewing a socket's viewing failed")

