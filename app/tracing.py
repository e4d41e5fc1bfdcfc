"""Where a message's time goes, for the benchmark: with TRACE_DIR set, the
web and chat worker processes write, one line each, when a sampled message
passed each stage of its way, and what held the process up meanwhile
(collections, a blocked event loop, heartbeats, batches). bench/trace.py
reads the files. Without TRACE_DIR nothing is recorded: each call below is
one test of a flag.

A line is "<wall time> <what> <detail...>", space-separated:
  stage <client_id> <stage> [user id]   a sampled message passed a stage
  gc <generation> <ms>                  a collection (of 2 ms or more, or a full one)
  blocked <ms> <where>                  the event loop ran nothing else for <ms>
  heartbeat <ms> / ping <ms>            the hub's presence heartbeat, its round of pings
  batch <jobs> <ms> <save ms> <push ms> the chat worker delivered a batch
"""

import atexit
import gc
import os
import re
import time

# One message in SAMPLE_EVERY is traced, chosen by its client_id, so every
# process (and the load) picks the same ones without asking each other.
SAMPLE_EVERY = 4
MESSAGE_ID = re.compile(r'id="m-([0-9a-f]{32})"')  # a message's element in a push
BLOCKED_MS = 15  # the event loop stalls worth a line
PROBE_EVERY = 0.005  # seconds between the loop probe's wake-ups

enabled = False
_file = None


def start():
    """Trace this process if TRACE_DIR is set (the benchmark sets it)."""
    global enabled, _file
    folder = os.environ.get("TRACE_DIR")
    if not folder or enabled:
        return
    os.makedirs(folder, exist_ok=True)
    _file = open(os.path.join(folder, f"{os.getpid()}.trace"), "a", buffering=1)  # a line at a time
    enabled = True
    gc.callbacks.append(_collection)


def sampled(client_id):
    return int(client_id[-2:], 16) % SAMPLE_EVERY == 0


def stage(client_id, name, at=None, user_id=None):
    if enabled and sampled(client_id):
        _write(at or time.time(), "stage", client_id, name, *([user_id] if user_id else []))


def pushed(html, name, user_id):
    """The messages in a push for `user_id` passed stage `name`."""
    if enabled:
        for client_id in MESSAGE_ID.findall(html):
            stage(client_id, name, user_id=user_id)


def event(what, started, *detail):
    """A stall worth seeing against the slow deliveries: `what` began at `started` (wall time)."""
    if enabled:
        _write(started, what, *detail)


def _write(at, *fields):
    _file.write(f"{at:.6f} " + " ".join(str(field) for field in fields) + "\n")


_collecting = {}


def _collection(phase, info):
    if phase == "start":
        _collecting["at"] = time.time()
        _collecting["clock"] = time.perf_counter()
        return
    took = (time.perf_counter() - _collecting.get("clock", time.perf_counter())) * 1000
    if took >= 2 or info["generation"] == 2:
        _write(_collecting["at"], "gc", info["generation"], f"{took:.1f}")


def watch_event_loop():
    """In a gevent process: a greenlet that should wake every PROBE_EVERY
    seconds notes each time it woke more than BLOCKED_MS late; and a timer
    signal, set afresh at each wake, goes off only when the loop has not run
    the greenlet for BLOCKED_MS: its handler runs in whatever holds the loop
    and notes where that is, so each stall names its cause. (A thread that
    looked at the loop every few ms cost the web process 5-10% of its CPU
    at 100-200 msg/s, measured back to back: the handoffs of the GIL.)"""
    if not enabled:
        return
    import signal

    import gevent

    state = {"where": None}

    def caught(number, frame):
        state["where"] = _where(frame)

    signal.signal(signal.SIGALRM, caught)
    # At exit Python restores SIGALRM's default action, which would kill the process mid-exit.
    atexit.register(signal.setitimer, signal.ITIMER_REAL, 0)

    def probe():
        while True:
            before = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, BLOCKED_MS / 1000)
            gevent.sleep(PROBE_EVERY)
            late = (time.perf_counter() - before - PROBE_EVERY) * 1000
            if late >= BLOCKED_MS:
                _write(time.time() - late / 1000, "blocked", f"{late:.1f}", state["where"] or "?")
            state["where"] = None

    gevent.spawn(probe)


def _where(frame):
    """The innermost few of the project's own frames (or else the innermost), as file:function."""
    ours, innermost = [], None
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while frame is not None:
        name = frame.f_code.co_filename
        place = f"{os.path.basename(name)}:{frame.f_code.co_name}"
        innermost = innermost or place
        if name.startswith(root) and "site-packages" not in name and len(ours) < 3:
            ours.append(place)
        frame = frame.f_back
    return ",".join(reversed(ours)) + ("|" + innermost if innermost not in ours else "") if ours else innermost or "?"
