"""The original system's API, for the clients built on it (its Next.js front
end, mobile apps, bots): /api/v1 in its routes, status codes and JSON shapes,
and its Socket.IO events (events.py), on top of the same services as
Parley's pages: the same sign-in codes, sessions, sending path, limits,
blocks and directory rules. A feature above chats, people and auth: it calls
them, nothing below imports it. The holes the original had are closed
(README, "The original's API")."""

from functools import wraps

from flask import g
from flask_smorest import Api, abort
from flask_smorest import Blueprint as SmorestBlueprint
from markupsafe import Markup
from webargs.flaskparser import FlaskParser

from app.api import origins, schemas
from app.auth import sessions


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # the original answered a missing field with 400 {message}


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


class JsonApi(Api):
    """flask-smorest's Api, with our errors, and an OpenAPI document written
    the first time someone reads it (openapi.json, `flask openapi`) instead of
    in every create_app: it was a third of an app's start (39 -> 25 ms), and most
    processes (the workers, most web processes) never serve it."""

    ERROR_SCHEMA = schemas.Error
    DEFAULT_ERROR_RESPONSE_NAME = None  # each route lists the errors it answers

    def __init__(self, *args, **kwargs):
        self.undocumented = []
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        while self.undocumented:
            blueprint, name, parameters = self.undocumented.pop(0)
            blueprint.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
            self._spec.tag({"name": name, "description": blueprint.description})
        return self._spec

    @spec.setter
    def spec(self, value):
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.undocumented.append((blp, name, parameters))

    def _register_error_handlers(self):
        """Errors go through app/errors.py, which answers /api/ with {message}."""


def refuse(status, message):
    """Answer {message} with `status`. A message written for pages (names isolated in <bdi>) is sent as plain text."""
    abort(status, message=message.striptags() if isinstance(message, Markup) else message)


def signed_in(view):
    """401 {message} unless the request's session is alive."""

    @wraps(view)
    def checked(*args, **kwargs):
        if g.user_id is None:
            refuse(401, "Sign in first.")
        return view(*args, **kwargs)

    return checked


def from_allowed_origin():
    """before_request of the API's blueprints: what changes state comes from
    Parley or a site in API_ORIGINS (see origins.py), in place of a CSRF token."""
    from flask import request

    if request.method not in ("GET", "HEAD", "OPTIONS") and not origins.trusted():
        refuse(403, "Requests from this site are not allowed.")


def init_app(app):
    from app.api import accounts, conversations, events

    app.config.update(
        API_TITLE="Parley (the original system's API)",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = JsonApi(app, spec_kwargs={"servers": [{"url": "/"}]})
    for blueprint in (accounts.bp, conversations.bp):
        sessions.exempt_from_csrf(app, blueprint)
        api.register_blueprint(blueprint, url_prefix="/api/v1")
    origins.init_app(app)
    events.init_app(app)
