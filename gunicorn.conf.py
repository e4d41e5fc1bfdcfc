"""gunicorn settings for the `web` process: gevent workers, so one process
holds thousands of open WebSockets and event streams."""

import os
import resource
import signal

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = 10_000
keepalive = 5
graceful_timeout = 15
errorlog = "-"
# Several web processes share a machine in dev, tests and benchmarks; none needs gunicornc.
control_socket_disable = True


def on_starting(server):
    # Every socket is a file descriptor; allow as many as the system lets us.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def post_worker_init(worker):
    """On SIGTERM, first close every open page with 1012 ("service restart"),
    so browsers reconnect to a process that stays, then stop as usual."""
    import gevent

    from app.realtime import hub

    stop = worker.handle_exit

    def handle_exit(number, frame):
        gevent.spawn(hub.shutdown)
        stop(number, frame)

    signal.signal(signal.SIGTERM, handle_exit)
