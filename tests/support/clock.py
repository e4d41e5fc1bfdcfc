"""A clock that tests set instead of sleeping (see app/clock.py)."""

from datetime import UTC, datetime, timedelta

from app import clock


class Clock:
    def __init__(self):
        self.at = datetime.now(UTC).replace(microsecond=0)
        clock.set_to(self.at)

    def advance(self, **delta):
        """Move time on, e.g. advance(minutes=5)."""
        self.at += timedelta(**delta)
        clock.set_to(self.at)
        return self.at

    def set(self, at):
        self.at = at
        clock.set_to(at)
        return at

    def restore(self):
        clock.set_to()
