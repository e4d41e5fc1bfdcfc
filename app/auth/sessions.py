"""Who is signed in: JWT cookies, with refresh tokens kept (and rotated) in Redis.

Every request reads the access token, and checks that its session (the
sign-in it came from, see session_store.py) has not ended. When it is
missing, expired or about to expire and the refresh token is still alive,
the server rotates the refresh token and issues a new pair on its own, so a
user is never bounced while the refresh token lives. A refresh token used
twice ends its session, except within a few seconds of its rotation, when
parallel requests from one page all carry it: from the browser that holds
the session (its browser cookie) only, so a thief replaying it gets nothing.

CSRF: every POST carries a token, in the X-CSRFToken header (htmx) or a
hidden csrf_token field (plain forms). Signed in, it is a random value kept in
the session's JWTs (and carried into renewed ones), so checking it costs a
comparison; signed out (the sign-in forms), it is Flask-WTF's, tied to the
Flask session.
"""

import hmac
import secrets
import time
from functools import lru_cache, wraps

import jwt as pyjwt
from bson import ObjectId
from flask import current_app, g, request, url_for
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from wtforms import ValidationError

from app.auth import browser, session_store
from app.web import go_to, is_htmx

RENEW_BEFORE = 120  # seconds of access-token life left when the server renews it


def _set_access(response, token):
    set_access_cookies(response, token, max_age=current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])


def _set_refresh(response, token):
    set_refresh_cookies(response, token, max_age=current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])


@lru_cache(maxsize=10_000)
def _verified(token, secret):
    """A token's claims once its signature checks out. A page's every request
    carries the same token, and checking it is most of a small request's cost."""
    return decode_token(token, allow_expired=True)


def _claims(cookie_name, token_type):
    """The verified claims of a token cookie, or None (absent, forged or expired)."""
    token = request.cookies.get(current_app.config[cookie_name])
    if not token:
        return None
    try:
        claims = _verified(token, current_app.config["JWT_SECRET_KEY"])
    except pyjwt.PyJWTError:
        return None
    if claims.get("type") != token_type or claims["exp"] <= time.time():
        return None
    return claims


def _new_refresh_token(user_id, csrf, jti, session_id):
    return create_refresh_token(identity=str(user_id), additional_claims={"jti": jti, "csrf": csrf, "sid": session_id})


def _new_access_token(user_id, csrf, session_id):
    return create_access_token(identity=str(user_id), additional_claims={"csrf": csrf, "sid": session_id})


def start(response, user_id):
    """Sign `user_id` in: a new session, and both cookies."""
    csrf, jti = secrets.token_urlsafe(24), secrets.token_urlsafe(18)
    session_id = session_store.begin(user_id, jti, browser.browser_id())
    browser.remember(response)
    _set_access(response, _new_access_token(user_id, csrf, session_id))
    _set_refresh(response, _new_refresh_token(user_id, csrf, jti, session_id))


def end(response):
    """Sign out: end this session (its tokens stop working, its open pages
    close) and clear the cookies."""
    if g.get("user_id"):
        session_store.end(g.user_id, g.session_id)
    g.pop("new_access_token", None)
    g.pop("new_refresh_token", None)
    unset_jwt_cookies(response)


def end_everywhere(response):
    """Sign out of all devices: every session of the person ends."""
    session_store.end_all(g.user_id)
    end(response)


def _signed_in(claims):
    g.user_id = ObjectId(claims["sub"])
    g.session_id = claims.get("sid")
    g.csrf = claims.get("csrf", "")


def _ended():
    g.session_ended = True  # its cookies are cleared


def load_user(rotate=True):
    """before_request: set g.user_id (an ObjectId, or None when signed out) and
    g.session_id. Without `rotate` (a request whose answer cannot set cookies:
    a WebSocket handshake, a Socket.IO connect) a live refresh token is enough,
    and is not rotated: the browser would keep the old one."""
    g.user_id = g.session_id = None
    access = _claims("JWT_ACCESS_COOKIE_NAME", "access")
    if access and access["exp"] - time.time() > RENEW_BEFORE:
        if session_store.alive(access["sub"], access.get("sid")):
            return _signed_in(access)
        return _ended()
    refresh = _claims("JWT_REFRESH_COOKIE_NAME", "refresh")
    if refresh is None:
        if access and session_store.alive(access["sub"], access.get("sid")):
            _signed_in(access)  # about to expire, nothing to renew it with: use it while it lasts
        return
    if not rotate or request.headers.get("Upgrade", "").lower() == "websocket":
        # A WebSocket handshake cannot set cookies, so it must not rotate the
        # refresh token the browser holds: a live one is enough to connect.
        if session_store.refresh_usable(refresh["sub"], refresh.get("sid"), refresh["jti"], browser.browser_id()):
            _signed_in(refresh)
        return
    _renew(refresh)


def _renew(refresh):
    """Rotate the refresh token and issue a new pair (sent by save_tokens);
    a token used again after its rotation ends the session. True if renewed."""
    user_id, session_id = refresh["sub"], refresh.get("sid")
    csrf = refresh.get("csrf") or secrets.token_urlsafe(24)  # kept, so open pages' tokens stay good
    new_jti = secrets.token_urlsafe(18)
    outcome = session_store.rotate(user_id, session_id, refresh["jti"], new_jti, browser.browser_id())
    if outcome not in ("rotated", "grace"):
        _ended()
        return False
    _signed_in({"sub": user_id, "sid": session_id, "csrf": csrf})
    g.new_access_token = _new_access_token(user_id, csrf, session_id)
    if outcome == "rotated":
        g.new_refresh_token = _new_refresh_token(user_id, csrf, new_jti, session_id)
    return True


def renew():
    """Renew the session now (the API's /auth/refresh), unless this request
    already did: False if its refresh token is missing, ended or used again."""
    if g.get("new_access_token"):
        return True
    refresh = _claims("JWT_REFRESH_COOKIE_NAME", "refresh")
    if refresh is None:
        g.user_id = None
        return False
    return _renew(refresh)


def csrf_token():
    """The token this page's forms and htmx requests send back (a template global)."""
    return g.csrf if g.get("user_id") else generate_csrf()


def exempt_from_csrf(app, blueprint):
    """Requests to `blueprint` carry no token: it checks where they come from instead (app/api/origins.py)."""
    app.extensions.setdefault("csrf_exempt", set()).add(blueprint.name)


def csrf_exempt(view):
    """A view whose POST needs no CSRF token: one that carries its own
    authority (a signed token in its URL) and is posted from outside a page."""
    view.csrf_exempt = True
    return view


def check_csrf():
    """before_request, after load_user: a POST without the right token is refused."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.blueprint in current_app.extensions.get("csrf_exempt", ()):
        return
    if getattr(current_app.view_functions.get(request.endpoint), "csrf_exempt", False):
        return
    sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token", "")
    if g.user_id:
        # Compared as bytes: compare_digest raises on a str with non-ASCII characters.
        if not (sent and g.csrf and hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), g.csrf.encode())):
            raise CSRFError("The CSRF token is missing or does not match this session.")
        return
    try:
        validate_csrf(sent)
    except ValidationError as error:
        raise CSRFError(error.args[0]) from None


def save_tokens(response):
    """after_request: send renewed tokens, or clear the cookies of an ended session."""
    if g.get("new_access_token"):
        _set_access(response, g.new_access_token)
    if g.get("new_refresh_token"):
        _set_refresh(response, g.new_refresh_token)
        browser.remember(response)  # the refresh token's grace is its browser's alone
    if g.get("session_ended"):
        unset_jwt_cookies(response)
    return response


def login_required(view):
    """Signed out, a page sends the person to sign in, and back here after (`next`)."""

    @wraps(view)
    def signed_in_view(*args, **kwargs):
        if g.user_id is None:
            back = request.full_path.rstrip("?") if request.method == "GET" and not is_htmx() else "/"
            return go_to(url_for("auth.signin", next=None if back == "/" else back))
        return view(*args, **kwargs)

    return signed_in_view
