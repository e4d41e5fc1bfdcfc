"""Sign-in limits: a resend cooldown per email, and caps per email and per IP
address, as moving windows in Redis (the `limits` library). Only a code that
was actually sent counts, so a typo costs nothing. Checked in the sign-in view
alone: every other request pays nothing for them."""

import math
import time

from flask import current_app, request
from limits import parse, storage, strategies

from app.connections import redis_client


def _limiter():
    app = current_app._get_current_object()
    if "signin_limiter" not in app.extensions:
        store = storage.RedisStorage(
            app.config["REDIS_URL"],
            connection_pool=redis_client().connection_pool,
            key_prefix=app.config["KEY_PREFIX"] + "limits",
        )
        app.extensions["signin_limiter"] = strategies.MovingWindowRateLimiter(store)
    return app.extensions["signin_limiter"]


def _limits(email):
    config = current_app.config
    cooldown = config["SIGNIN_RESEND_COOLDOWN"]
    return [
        (
            parse(config["SIGNIN_LIMIT_PER_IP"]),
            ("signin-ip", request.remote_addr or "unknown"),
            "Too many codes were asked for from your network. Try again in an hour.",
        ),
        (
            parse(config["SIGNIN_LIMIT_PER_EMAIL"]),
            ("signin-email", email),
            "Too many codes were sent to this address. Try again in an hour.",
        ),
        (parse(f"1 per {cooldown} seconds"), ("signin-cooldown", email), None),
    ]


def refusal(email):
    """Why a code cannot be sent to `email` now, or None if it can."""
    limiter = _limiter()
    for limit, identifiers, message in _limits(email):
        if not limiter.test(limit, *identifiers):
            if message:
                return message
            reset_at = limiter.get_window_stats(limit, *identifiers).reset_time
            wait = min(limit.get_expiry(), max(1, math.ceil(reset_at - time.time())))
            return f"We just sent you a code. You can ask for another in {wait} seconds."
    return None


def count(email):
    """A code went to `email`: it counts against every limit."""
    limiter = _limiter()
    for limit, identifiers, _ in _limits(email):
        limiter.hit(limit, *identifiers)
