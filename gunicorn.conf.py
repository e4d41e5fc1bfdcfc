"""gunicorn settings for the `web` process: gevent workers, so one process
holds thousands of open WebSockets and event streams."""

import os
import resource
import signal

# Not `import config`: gunicorn reads every name here as one of its settings.
from config import load, or_exit

# Every setting is checked here, in the master, so a bad one stops start-up
# with one line instead of workers failing to boot over and over.
with or_exit():
    settings = load()

# Greenlets need not remember the stack that spawned them: three per open
# page, that is thousands of frames kept alive and walked by every collection.
os.environ.setdefault("GEVENT_TRACK_GREENLET_TREE", "false")

bind = f"0.0.0.0:{settings['PORT']}"
worker_class = "gevent"
workers = settings["WEB_CONCURRENCY"]
if settings["API_ORIGINS"] and workers > 1:
    print(
        f"Parley: WEB_CONCURRENCY={workers} with API_ORIGINS set: a Socket.IO client that long-polls "
        "must reach one process each time (docs/deploying.md, \"The original's clients\")",
        flush=True,
    )
# Requests in progress and event streams, at once. An open page's WebSocket
# is not one once it is served (see PageSocket), so this bounds how many
# handshakes run together: the rest wait in the listen backlog, costing no
# memory here. Measured at 5,000 pages: 10,000 -> 36 KB each, 1,000 -> 14 KB.
# Event streams hold one each while open: the app lets them have half
# (app/realtime/limits.py reads the same variable).
worker_connections = settings["WORKER_CONNECTIONS"]
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

    from app import memory, tracing
    from app.realtime import hub
    from app.realtime.pagesocket import CLOSE_WAIT

    memory.settle()  # a collection's pause is felt by every open page
    tracing.start()
    tracing.watch_event_loop()

    stop = worker.handle_exit

    def close_pages_then_stop(number, frame):
        # The pages are not gunicorn's requests (see PageSocket): wait for their closes to go out.
        hub.shutdown(CLOSE_WAIT + 1)
        stop(number, frame)

    def handle_exit(number, frame):
        gevent.spawn(close_pages_then_stop, number, frame)

    signal.signal(signal.SIGTERM, handle_exit)
