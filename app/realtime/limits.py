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
- Pages a person opens, per process: OPENS_AT_ONCE at once, then
  OPENS_PER_SECOND. A page past that is refused before it
  costs a Redis round trip (a stream told to come back in OPENS_RETRY
  seconds, a socket closed with 1013, after which it tries again later):
  one account's 2,500 event streams, opening again as each was closed for
  the newer ones, kept the process's Redis connections so busy that
  another person's page waited 10 s for one, or answered 503.

Counted in this process's memory: what they bound is this process.
"""

import random
import time
from collections import Counter

from flask import current_app, g, request

STREAM_RETRY = 10  # seconds
OPENS_RETRY = 60  # seconds on average, for a stream of a person who opened too many: each try costs a request
OPENS_AT_ONCE = 40  # twice the pages a person may hold (presence.PAGES_PER_PERSON): a restart's tabs, and more
OPENS_PER_SECOND = 1

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


_opens = {}  # user id -> their budget of page opens here (see spend)


def spend(budget, now, size, per_second):
    """Take one from a token bucket of `size` that refills `per_second`,
    kept in the dict `budget`; False if it is empty."""
    left = min(size, budget.get("left", size) + (now - budget.get("at", now)) * per_second)
    budget["at"] = now
    if left < 1:
        budget["left"] = left
        return False
    budget["left"] = left - 1
    return True


def take_open(user_id):
    """A page of `user_id` opens here; False if they opened too many just now."""
    if len(_opens) > 10_000:
        _opens.clear()  # every budget refills in OPENS_AT_ONCE seconds anyway
    return spend(_opens.setdefault(user_id, {}), time.monotonic(), OPENS_AT_ONCE, OPENS_PER_SECOND)


def opens_retry():
    """When a stream refused by take_open may come back: spread over a
    minute, so that a flood's streams, refused together, do not all
    come back in the same second."""
    return random.uniform(OPENS_RETRY / 2, OPENS_RETRY * 3 / 2)
