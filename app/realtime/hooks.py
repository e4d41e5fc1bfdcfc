"""What a feature does when pages open, talk and close, and when people come
and go. Realtime calls these hooks and knows nothing of what they mean; a
feature (app/chats/live.py) gives its own with `use` when the app is made.
They run in an app context; `opened` and `message` in a request context."""


class Hooks:
    def opened(self, connection, hello):
        """A page's socket or stream is attached. `hello` is what the page
        said of itself (a dict); the feature may keep what it needs in
        `connection.state` and `connection.tell` the page something."""

    def message(self, connection, message):
        """The page sent `message`, a JSON object, over its socket."""

    def closed(self, connection):
        """The page went away."""

    def online(self, user_id):
        """The person's first live page opened."""

    def offline(self, user_id):
        """The person has had no live page for a moment (a reload is not a departure)."""


def use(app, hooks):
    app.extensions["realtime.hooks"] = hooks


def of(app):
    return app.extensions.get("realtime.hooks") or Hooks()
