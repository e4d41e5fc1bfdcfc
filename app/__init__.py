"""Parley: a real-time 1:1 chat, rendered on the server."""

import hashlib
import os
from datetime import timedelta

from flask import Flask, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from app import api, cli, connections, errors, formatting, health, letters, logs, text, timing
from app.auth import sessions
from app.auth.letters import SIGNIN_CODE
from app.chats import live
from app.chats.present import presence_label
from app.extensions import compress, jwt, mail, sock
from app.forms import field_attributes
from app.notifications.letters import MISSED_MESSAGES
from app.realtime.pagesocket import NoThread


def create_app(overrides=None):
    app = Flask(__name__)
    app.config.from_mapping(config.load())
    app.config.update(overrides or {})
    app.config.update(
        # Room for an image at the limit plus the form, so an oversized image
        # still gets a clear message with the draft kept.
        MAX_CONTENT_LENGTH=2 * app.config["MAX_IMAGE_BYTES"] + 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=365),  # asset URLs carry a content hash
        SOCK_SERVER_OPTIONS={"thread_class": NoThread},  # a PageSocket reads each socket
        COMPRESS_REGISTER=False,  # compress_response registers it
    )
    if hops := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    logs.init_app(app)  # first, so every request gets its id and its line
    timing.init_app(app)  # next, so its clock wraps the other hooks
    connections.init_app(app)
    for extension in (compress, jwt, mail, sock):
        extension.init_app(app)
    app.after_request(compress_response)
    app.before_request(sessions.load_user)
    app.before_request(sessions.check_csrf)
    app.after_request(sessions.save_tokens)
    app.after_request(security_headers)
    errors.init_app(app)
    register_blueprints(app)
    live.init_app(app)
    api.init_app(app)
    letters.init_app(app, [SIGNIN_CODE, MISSED_MESSAGES])
    app.add_template_global(asset_url_for(app), "asset")
    app.add_template_global(field_attributes)
    app.add_template_global(sessions.csrf_token)
    app.add_template_filter(formatting.iso_time)
    for text_filter in (text.bdi, text.isolate, text.linkify):
        app.add_template_filter(text_filter)
    app.add_template_global(presence_label)
    register_macros(app)
    cli.init_app(app)
    return app


def create_app_or_exit():
    """create_app for a process's entry point: a configuration error is one clear line, not a traceback."""
    with config.or_exit():
        return create_app()


def register_blueprints(app):
    from app.auth.views import bp as auth
    from app.chats.editing import bp as editing
    from app.chats.views import bp as chats
    from app.notifications.views import bp as notifications
    from app.people.views import bp as people
    from app.realtime.views import bp as realtime
    from app.search.views import bp as search

    for blueprint in (health.bp, auth, chats, editing, notifications, people, realtime, search):
        app.register_blueprint(blueprint)
    if app.config["APP_ENV"] == "development":
        from app.dev import bp as dev

        app.register_blueprint(dev)


def register_macros(app):
    """The shared macros (templates/macros.html) as template globals. An
    import in each partial cost every render a check of the globals, about
    25 µs: a Chats navigation renders a hundred entries, the chat worker four
    partials a message."""
    macros = app.jinja_env.get_template("macros.html").module
    for name in ("csrf_field", "field", "timestamp", "presence_dot", "pause", "back_icon", "message_link"):
        app.add_template_global(getattr(macros, name), name)


def compress_response(response):
    """Flask-Compress's hook, but not for the WebSocket route: its response is
    never sent (the socket answered the handshake), and compressing its empty
    body cost every connect about 0.07 ms."""
    if request.endpoint == "realtime.websocket":
        return response
    return compress.after_request(response)


def asset_url_for(app):
    """asset("parley.css") -> /static/parley.css?v=<content hash>, cacheable for a year."""
    versions = {}

    def asset(filename):
        if filename not in versions:
            with open(os.path.join(app.static_folder, filename), "rb") as file:
                versions[filename] = hashlib.sha256(file.read()).hexdigest()[:12]
        return url_for("static", filename=filename, v=versions[filename])

    return asset


def security_headers(response):
    """Strict CSP (no inline script or style anywhere), nosniff, no framing."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response
