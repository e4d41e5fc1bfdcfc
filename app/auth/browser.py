"""The browser that asks: a long-lived random id in a signed cookie, so that
sign-in limits can count per browser (see throttle.py). Signed, so that ids,
which go into Redis keys, are only ever ones this app made."""

import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "browser"
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="browser")


def browser_id():
    """This browser's id; a new one, sent with the response, if it has none."""
    if "browser_id" not in g:
        try:
            g.browser_id = _serializer().loads(request.cookies.get(COOKIE, ""))
        except BadSignature:
            g.browser_id, g.new_browser = secrets.token_urlsafe(12), True
    return g.browser_id


def remember(response):
    """after_request of the sign-in views: give a new browser its cookie."""
    if g.pop("new_browser", False):
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.browser_id),
            max_age=MAX_AGE,
            httponly=True,
            samesite=current_app.config["SESSION_COOKIE_SAMESITE"],
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response
