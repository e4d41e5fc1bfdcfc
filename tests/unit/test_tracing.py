"""The benchmark's tracing: a stall of the event loop is noted with where it was."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A gevent process whose loop one function holds for 60 ms, and another that
# never holds it for long.
PROCESS = textwrap.dedent(
    """
    import time

    import gevent

    from app import tracing

    def hold_the_loop():
        time.sleep(0.06)  # not gevent's: nothing else runs meanwhile

    tracing.start()
    tracing.watch_event_loop()
    gevent.sleep(0.05)
    hold_the_loop()
    for _ in range(20):
        gevent.sleep(0.005)
    """
)


def test_a_blocked_event_loop_is_noted_with_the_function_that_held_it(tmp_path):
    env = {**os.environ, "TRACE_DIR": str(tmp_path), "PYTHONPATH": ROOT}
    subprocess.run([sys.executable, "-c", PROCESS], env=env, check=True, timeout=30)
    [trace] = tmp_path.iterdir()
    blocked = [line.split() for line in trace.read_text().splitlines() if line.split()[1] == "blocked"]
    assert len(blocked) == 1
    _, _, ms, where = blocked[0]
    assert 40 <= float(ms) <= 200
    assert where.endswith(":hold_the_loop")
