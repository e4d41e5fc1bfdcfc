"""Which sites' scripts may use the API with a person's cookies: Parley's
own pages and the origins in API_ORIGINS (CORS with credentials for those).
The original's clients send no CSRF token, so where a request comes from
stands in for it: a browser always says so (Origin, or Sec-Fetch-Site), and
a request from any other site is refused before it changes anything. A
client that is not a browser says neither, and no site can make it act."""

from urllib.parse import urlsplit

from flask import current_app, request
from flask_cors import CORS

CROSS_SITE = ("cross-site", "same-site")


def init_app(app):
    CORS(
        app,
        resources={r"/api/*": {"origins": list(app.config["API_ORIGINS"])}},
        supports_credentials=True,
        allow_headers=["Content-Type", "Idempotency-Key"],
        max_age=600,
    )


def allowed(origin, host=None, listed=None):
    """The origin is Parley's own (the host asked), or one API_ORIGINS lists."""
    if not origin:
        return False
    listed = current_app.config["API_ORIGINS"] if listed is None else listed
    return urlsplit(origin).netloc == (host or request.host) or origin.lower() in listed


def trusted():
    """The request does not come from a script or page of another site."""
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return allowed(origin)
    return origin is None and request.headers.get("Sec-Fetch-Site") not in CROSS_SITE
