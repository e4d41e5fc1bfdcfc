"""The time, read in one place so that tests can set it (see tests/support/clock.py).

`now()` is a timezone-aware UTC datetime, for what is stored and shown;
`time()` is seconds since the epoch, for scores and expiries kept in Redis.
"""

import time as _time
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen = None


def now():
    return _frozen if _frozen is not None else datetime.now(UTC) + _offset


def time():
    return now().timestamp() if (_frozen is not None or _offset) else _time.time()


def set_to(at=None, offset=None):
    """Tests only: freeze the clock at `at`, or run it `offset` ahead; set_to() restores it."""
    global _frozen, _offset
    _frozen, _offset = at, offset or timedelta(0)
