"""Logs: one line per record on stdout, in logfmt (key=value, as the
platform's router logs), and one line per request from the web process:
method, path (never the query), status, duration and request id.

The request id is the router's X-Request-ID when it sends a sane one, else
a new one; it is echoed in the response and travels with a message's job,
so the chat worker's line for that message carries it too. Nothing here
logs a code, token, cookie or message text: a line holds only the fields
its caller names.
"""

import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
BARE = re.compile(r"^[^\s=\"\\]+$")

log = logging.getLogger("parley.requests")


def logfmt(fields):
    """key=value pairs, quoted where needed, newlines escaped: always one line."""
    pairs = []
    for name, value in fields.items():
        if value is None:
            continue
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        if not BARE.match(text):
            text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        pairs.append(f"{name}={text}")
    return " ".join(pairs)


class LogfmtFormatter(logging.Formatter):
    def __init__(self, process):
        super().__init__()
        self.process = process

    def format(self, record):
        fields = {"level": record.levelname.lower(), "process": self.process, "logger": record.name}
        if has_request_context() and "request_id" in g:
            fields["request_id"] = g.request_id
        fields.update(getattr(record, "fields", {}))
        message = record.getMessage()
        if message:
            fields["msg"] = message
        if record.exc_info:
            fields["error"] = repr(record.exc_info[1])
            fields["traceback"] = self.formatException(record.exc_info)
        return logfmt(fields)


def configure(process):
    """Every logger of this process to stdout, one logfmt line per record, from INFO up."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LogfmtFormatter(process))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("pika").setLevel(logging.WARNING)


def fields(**values):
    """`extra` for a log call: log.info("delivered", extra=fields(jobs=3))."""
    return {"fields": values}


def request_id():
    """The current request's id (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def init_app(app):
    @app.before_request
    def take_request_id():
        g.request_started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        response.headers["X-Request-ID"] = g.request_id
        duration = (time.perf_counter() - g.request_started) * 1000
        log.info(
            "",
            extra=fields(
                request_id=g.request_id,
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=duration,
            ),
        )
        return response
