"""Sessions: one per sign-in, named by an id that its JWTs carry.

A session is kept in MongoDB (app/data/sessions.py), so that Redis losing
its data signs nobody out and revives no ended session. Its access tokens
are good only while it lives: checked against a per-process memory of a
second, then Redis's copy of the session's state, then MongoDB (see
`alive`). Its refresh tokens are rotated on use. Signing out ends it at
once and tells its open pages (every tab, every web process) to close with
4401. A refresh token used again after its rotation means that someone else
holds it: the whole session ends.

Every Redis key of a person's sessions has their id as hash tag, so these
keys live on one node of a Redis Cluster.
"""

import secrets
from datetime import timedelta

from cachetools import TTLCache
from flask import current_app

from app import clock
from app.connections import key, redis_client
from app.data import sessions
from app.realtime import hub, push

ALIVE_FOR = 1.0  # seconds this process trusts that a session it saw alive still is
STATE_FOR = 15 * 60  # seconds Redis keeps a session's state ("1" alive, "0" ended) before asking MongoDB again
ROTATION_GRACE = 20  # seconds a rotated refresh token still counts, for parallel requests

# Session ids seen alive lately, each trusted for ALIVE_FOR seconds (see
# alive); bounded, the least recently used going first.
_seen_alive = TTLCache(maxsize=100_000, ttl=ALIVE_FOR)


def state_key(user_id, session_id):
    return key("{sessions:" + str(user_id) + "}", "session", session_id)


def refresh_lifetime():
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]


def begin(user_id, jti):
    """A new session for `user_id`, whose first refresh token is `jti`; returns its id."""
    session_id = secrets.token_urlsafe(12)
    now = clock.now()
    sessions.create(session_id, user_id, jti, now, now + refresh_lifetime())
    redis_client().set(state_key(user_id, session_id), "1", ex=STATE_FOR)
    return session_id


def alive(user_id, session_id):
    """Whether the session still lives. A page's requests come in bursts (a
    page, its assets, htmx partials), so a session seen alive is trusted for
    ALIVE_FOR seconds: most requests pay no round trip for it (measured in
    the README). Its own process forgets it at once when it ends; other
    processes within ALIVE_FOR, or at once if they hold its pages."""
    if not session_id:
        return False  # a token from before sessions had ids
    if _seen_alive.get(session_id):
        return True
    state = redis_client().get(state_key(user_id, session_id))
    if state is None:  # not asked lately, or Redis lost it: MongoDB knows
        state = "1" if _lives(sessions.get(session_id), user_id) else "0"
        redis_client().set(state_key(user_id, session_id), state, ex=STATE_FOR)
    if state != "1":
        return False
    _seen_alive[session_id] = True
    return True


def _lives(session, user_id):
    return bool(
        session
        and str(session["user_id"]) == str(user_id)
        and session["ended_at"] is None
        and session["expires_at"] > clock.now()
    )


def rotate(user_id, session_id, old_jti, new_jti):
    """'rotated' (new_jti now refreshes the session), 'grace' (old_jti was
    rotated a moment ago by a parallel request), 'ended' (the session is
    over) or 'reused' (old_jti was rotated long ago: stolen, so the
    session has just been ended)."""
    now = clock.now()
    if session_id and sessions.rotate(session_id, old_jti, new_jti, now, now + refresh_lifetime()):
        return "rotated"
    session = sessions.get(session_id) if session_id else None
    if not _lives(session, user_id):
        return "ended"
    if session["previous"] == old_jti and now - session["rotated_at"] < timedelta(seconds=ROTATION_GRACE):
        return "grace"
    end(user_id, session_id)
    return "reused"


def refresh_usable(user_id, session_id, jti):
    """For a WebSocket handshake, which cannot set cookies and so must not
    rotate: the refresh token (or one rotated a moment ago) and its session still live."""
    if not alive(user_id, session_id):
        return False
    session = sessions.get(session_id)
    recent = session["rotated_at"] > clock.now() - timedelta(seconds=ROTATION_GRACE)
    return session["refresh"] == jti or (session["previous"] == jti and recent)


def end(user_id, session_id):
    """Sign out: the session's tokens stop working, its open pages close."""
    if session_id:
        sessions.end(session_id, clock.now())
        redis_client().set(state_key(user_id, session_id), "0", ex=STATE_FOR)
    _forget_seen(session_id)
    push.close_pages(user_id, 4401, session=session_id)


def end_all(user_id):
    """Sign out of all devices: every session of the person ends."""
    ended = sessions.end_all(user_id, clock.now())
    pipe = redis_client().pipeline(transaction=False)
    for session_id in ended:
        pipe.set(state_key(user_id, session_id), "0", ex=STATE_FOR)
        _forget_seen(session_id)
    pipe.execute()
    push.close_pages(user_id, 4401)


def forget(user_id):
    """The account is going: its sessions (ended first, see end_all) are
    removed, with their state in Redis. A token that still names one finds
    no session, which counts as ended."""
    removed = sessions.delete_all(user_id)
    if removed:
        redis_client().delete(*(state_key(user_id, session_id) for session_id in removed))


def _forget_seen(session_id):
    """This process no longer trusts `session_id` to be alive."""
    _seen_alive.pop(session_id, None)


def _forget_closed(order, closed):
    """A hub closed a session's pages: this process, where that session was
    surely just seen alive, forgets it at once rather than in ALIVE_FOR."""
    if order.code == 4401:
        for session_id in {order.session, *(page.session_id for page in closed)}:
            _forget_seen(session_id)


hub.on_close_order(_forget_closed)
