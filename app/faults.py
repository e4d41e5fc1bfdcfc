"""Points where the fault run (`make chaos`, chaos/away.py) may kill this
process, to show that stopping there loses and doubles nothing: with
PARLEY_KILL_AT naming a step, a process reaching it dies (SIGKILL, as a
crash). Without it, each call is one look at the environment."""

import os
import signal


def step(name):
    if os.environ.get("PARLEY_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
