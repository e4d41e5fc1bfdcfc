"""Server-Timing: how long a request took, and how much of it was MongoDB.
On in development and test, and in production only with SERVER_TIMING=1
(it tells the browser about the server's internals)."""

import time

from flask import g, has_request_context
from pymongo import monitoring


class DatabaseTime(monitoring.CommandListener):
    """Adds up the MongoDB commands run while serving the current request."""

    def started(self, event):
        pass

    def succeeded(self, event):
        self._add(event.duration_micros)

    def failed(self, event):
        self._add(event.duration_micros)

    @staticmethod
    def _add(micros):
        if has_request_context():
            g.db_micros = g.get("db_micros", 0) + micros


def init_app(app):
    if not app.config["SERVER_TIMING"]:
        return

    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def server_timing(response):
        total = (time.perf_counter() - g.started) * 1000
        db = g.get("db_micros", 0) / 1000
        response.headers["Server-Timing"] = f"db;dur={db:.2f}, app;dur={total - db:.2f}, total;dur={total:.2f}"
        return response
