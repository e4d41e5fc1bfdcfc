"""What one requester may hold of a web process, so that no one can take it
all (one account held 2,500 event streams, and requests went from about 230
to 16 in 40 s; 2,100 sockets that never said hello slowed every request):

- Sockets still in their handshake (until the page's hello, HELLO_TIMEOUT
  seconds at most), per IP address: HANDSHAKES_PER_IP (20). A page says
  hello as soon as its socket opens, so only a flood has more (or a
  benchmark, whose thousands of people share one address).
- Event streams: each holds one of gunicorn's `worker_connections` for as
  long as it is open, so they get at most half of them (WORKER_CONNECTIONS)
  and normal requests always have the other half. A stream past that is told
  to come back in STREAM_RETRY seconds.
- Open pages per person, across processes: presence.PAGES_PER_PERSON.

Counted in this process's memory: what they bound is this process.
"""

from collections import Counter

from flask import current_app, g, request

STREAM_RETRY = 10  # seconds

_handshakes = Counter()  # IP address -> sockets of it still in their handshake
_streams = 0


def _ip():
    return request.remote_addr or "unknown"


def begin_handshake():
    """A socket's handshake starts; False if its IP address has too many going."""
    if _handshakes[_ip()] >= current_app.config["HANDSHAKES_PER_IP"]:
        return False
    _handshakes[_ip()] += 1
    g.handshake_of = _ip()
    return True


def end_handshake():
    """teardown: the handshake is over (the page said hello, or went)."""
    ip = g.pop("handshake_of", None)
    if ip is not None:
        _handshakes[ip] -= 1
        if _handshakes[ip] <= 0:
            del _handshakes[ip]


def take_stream():
    """Count one more event stream here; False if there is no room for it."""
    global _streams
    if _streams >= current_app.config["WORKER_CONNECTIONS"] // 2:
        return False
    _streams += 1
    return True


def stream_closed():
    global _streams
    _streams -= 1
