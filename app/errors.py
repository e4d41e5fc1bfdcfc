"""Error pages, and the same messages as alerts for htmx requests."""

import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app import outages
from app.broker import PublishError
from app.web import is_htmx

log = logging.getLogger(__name__)

MESSAGES = {
    400: "We could not understand that request.",
    401: "Sign in first.",
    403: "You cannot do that.",
    404: "We could not find that page.",
    405: "That page cannot do that.",
    413: "That upload is too large.",
    429: "You are going too fast. Wait a moment and try again.",
    500: "Something went wrong on our side. Try again.",
    503: outages.MESSAGE,
}


def error_response(message, status, headers=None, details=None):
    """An htmx request gets the message in the page's alert region, where a
    screen reader announces it; a page load gets an error page. A message
    that could not be sent is on that page, ready to send again. The API
    (/api/) answers {message} in JSON, with `details` (which fields are wrong)."""
    headers = dict(headers or {})
    if request.path.startswith("/api/"):
        return {"message": message, **({"errors": details} if details else {})}, status, headers
    if is_htmx():
        html = render_template("_alert.html", message=message)
        return html, status, {"HX-Retarget": "#alerts", "HX-Reswap": "innerHTML", **headers}
    draft = request.form.get("text") if request.endpoint == "chats.send" else None
    return render_template("error.html", message=message, status=status, draft=draft), status, headers


def unavailable():
    return error_response(outages.MESSAGE, 503, {"Retry-After": str(outages.RETRY_AFTER)})


def init_app(app):
    @app.errorhandler(CSRFError)
    def form_expired(error):
        return error_response("This page has expired. Reload it and try again.", 400)

    @app.errorhandler(HTTPException)
    def http_error(error):
        data = getattr(error, "data", None) or {}  # what an API view or its request check said
        message = data.get("message") or MESSAGES.get(error.code, error.description)
        return error_response(message, error.code, data.get("headers"), data.get("messages"))

    @app.errorhandler(PublishError)
    def not_queued(error):
        return unavailable()

    @app.errorhandler(Exception)
    def unexpected(error):
        if outages.is_outage(error):
            log.warning("a service failed while serving %s %s: %r", request.method, request.path, error)
            return unavailable()
        log.exception("unhandled error")
        return error_response(MESSAGES[500], 500)
