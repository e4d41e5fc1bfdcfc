"""Pushes as each person would receive them, captured in the test's own
process instead of going out through Redis (see push.Outbox.send)."""

import json
from collections import defaultdict

from app.realtime import push


class RecordedPushes:
    """Install on an app with `record(app)`; then `to(user_id)` is the HTML
    that person's open pages would have received, in order."""

    def __init__(self):
        self.received = defaultdict(list)  # user id -> [(html, replayable)]
        self.events = defaultdict(list)  # user id -> [[name, data], ...], what their API clients get

    def record(self, app):
        app.extensions["push_recorder"] = self
        return self

    def __call__(self, pushes, pipe=None, events=None):
        for (user_id, replayable), parts in pushes.items():
            self.received[user_id].append(("".join(parts), replayable))
            self.events[user_id].extend(json.loads(event) for event in (events or {}).get((user_id, replayable), []))

    def events_to(self, user_id, name=None):
        """The events pushed to `user_id` (those named `name`), in order."""
        return [event for event in self.events[user_id] if name is None or event[0] == name]

    def to(self, user_id):
        """Everything pushed to `user_id`, as one string."""
        return "".join(html for html, _ in self.received[user_id])

    def kept(self, user_id):
        """Only the pushes that a reconnecting page would get again."""
        return "".join(html for html, replayable in self.received[user_id] if replayable)

    def clear(self):
        self.received.clear()
        self.events.clear()

    def __bool__(self):
        return any(self.received.values())


def last_id(app, user_id):
    with app.app_context():
        return push.last_id(user_id)
