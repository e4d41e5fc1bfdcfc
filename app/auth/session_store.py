"""Sessions in Redis: one per sign-in, named by an id that its JWTs carry.

A session lives while its key does (15 days from its last refresh). Its
access tokens are good only while it lives, checked through a per-process
memory of a second (see `alive`), and its refresh tokens are rotated on use.
Signing out deletes the key, so the session's tokens stop working at once,
and tells its open pages (every tab, every web process) to close with 4401.
A refresh token used again after its rotation means that someone else holds
it: the whole session ends.

Every key of a person's sessions has their id as hash tag, so the scripts
here run on a Redis Cluster too.
"""

import secrets
import time

from flask import current_app

from app.connections import key, redis_client
from app.realtime import hub, push

ALIVE_FOR = 1.0  # seconds this process trusts that a session it saw alive still is
ROTATION_GRACE = 20  # seconds a rotated refresh token still counts, for parallel requests

# KEYS: the old refresh token, the new one, the old one's rotation mark, the session.
# ARGV: refresh lifetime, grace, the new token's session.
ROTATE_SCRIPT = """
if redis.call('EXISTS', KEYS[4]) == 0 then return 'ended' end
if redis.call('GET', KEYS[1]) then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[1])
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])
  redis.call('EXPIRE', KEYS[4], ARGV[1])
  return 'rotated'
end
if redis.call('GET', KEYS[3]) then return 'grace' end
redis.call('DEL', KEYS[4])
return 'reused'
"""

_seen_alive = {}  # session id -> until when (monotonic) it counts as alive here


def _tag(user_id):
    return "{sessions:" + str(user_id) + "}"


def session_key(user_id, session_id):
    return key(_tag(user_id), "session", session_id)


def sessions_key(user_id):
    return key(_tag(user_id), "all")


def refresh_key(user_id, jti):
    return key(_tag(user_id), "refresh", jti)


def rotated_key(user_id, jti):
    return key(_tag(user_id), "rotated", jti)


def refresh_ttl():
    return int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds())


def begin(user_id, jti):
    """A new session for `user_id`, whose first refresh token is `jti`; returns its id."""
    session_id = secrets.token_urlsafe(12)
    pipe = redis_client().pipeline()
    pipe.set(session_key(user_id, session_id), "1", ex=refresh_ttl())
    pipe.set(refresh_key(user_id, jti), session_id, ex=refresh_ttl())
    pipe.sadd(sessions_key(user_id), session_id)
    pipe.expire(sessions_key(user_id), refresh_ttl())
    pipe.execute()
    return session_id


def alive(user_id, session_id):
    """Whether the session still lives. A page's requests come in bursts (a
    page, its assets, htmx partials), so a session seen alive is trusted for
    ALIVE_FOR seconds: most requests pay no Redis round trip for it (measured
    in the README). Its own process forgets it at once when it ends; other
    processes within ALIVE_FOR, or at once if they hold its pages."""
    if not session_id:
        return False  # a token from before sessions had ids
    now = time.monotonic()
    if _seen_alive.get(session_id, 0) > now:
        return True
    if not redis_client().exists(session_key(user_id, session_id)):
        return False
    if len(_seen_alive) > 100_000:
        _seen_alive.clear()
    _seen_alive[session_id] = now + ALIVE_FOR
    return True


def rotate(user_id, session_id, old_jti, new_jti):
    """'rotated' (new_jti now refreshes the session), 'grace' (old_jti was
    rotated a moment ago by a parallel request), 'ended' (the session is
    over) or 'reused' (old_jti was rotated long ago: stolen, so the
    session has just been ended)."""
    script = redis_client().register_script(ROTATE_SCRIPT)
    outcome = script(
        keys=[
            refresh_key(user_id, old_jti),
            refresh_key(user_id, new_jti),
            rotated_key(user_id, old_jti),
            session_key(user_id, session_id or "none"),
        ],
        args=[refresh_ttl(), ROTATION_GRACE, session_id or ""],
    )
    if outcome == "reused":
        _ended(user_id, session_id)
    return outcome


def refresh_usable(user_id, session_id, jti):
    """For a WebSocket handshake, which cannot set cookies and so must not
    rotate: the refresh token (or its grace) and its session still live."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.exists(refresh_key(user_id, jti), rotated_key(user_id, jti))
    pipe.exists(session_key(user_id, session_id or "none"))
    tokens, session = pipe.execute()
    return bool(tokens and session)


def end(user_id, session_id):
    """Sign out: the session's tokens stop working, its open pages close."""
    pipe = redis_client().pipeline()
    pipe.delete(session_key(user_id, session_id or "none"))
    pipe.srem(sessions_key(user_id), session_id or "none")
    pipe.execute()
    _ended(user_id, session_id)


def end_all(user_id):
    """Sign out of all devices: every session of the person ends."""
    client = redis_client()
    session_ids = client.smembers(sessions_key(user_id))
    pipe = client.pipeline()
    for session_id in session_ids:
        pipe.delete(session_key(user_id, session_id))
        forget(session_id)
    pipe.delete(sessions_key(user_id))
    pipe.execute()
    push.close_pages(user_id, 4401)


def forget(session_id):
    """This process no longer trusts `session_id` to be alive."""
    _seen_alive.pop(session_id, None)


def _forget_closed(order, closed):
    """A hub closed a session's pages: this process, where that session was
    surely just seen alive, forgets it at once rather than in ALIVE_FOR."""
    if order.code == 4401:
        for session_id in {order.session, *(page.session_id for page in closed)}:
            forget(session_id)


hub.on_close_order(_forget_closed)


def _ended(user_id, session_id):
    forget(session_id)
    push.close_pages(user_id, 4401, session=session_id)
