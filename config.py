"""Configuration, read from the environment only (12-factor).

Development gets safe defaults so `make run` works on a bare machine, its
secrets generated on first run and kept under var/. Nothing else has a
default secret: production (also what an unset APP_ENV means) refuses to start
without its secrets and service URLs, and test without its secrets.
"""

import os
import secrets
import time
from datetime import timedelta

from dotenv import load_dotenv

ENVIRONMENTS = ("development", "test", "production")

# Needed in production; development and test fall back to local services.
REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "JWT_SECRET_KEY",
    "MONGODB_URI",
    "REDIS_URL",
    "RABBITMQ_URL",
    "MAIL_SERVER",
    "MAIL_DEFAULT_SENDER",
    "CLOUDINARY_URL",
)

# Needed everywhere but development, which generates its own.
SECRETS = ("SECRET_KEY", "JWT_SECRET_KEY")
DEV_SECRETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "var", "secrets")

DEV_MONGODB_PORT = 27018
DEV_SMTP_PORT = 1025


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def load(environ=None):
    """Build the Flask config mapping from `environ` (default: os.environ + .env)."""
    if environ is None:
        load_dotenv(override=False)  # real environment variables win over .env
        environ = os.environ
    # Unset means production: a deployment that forgets APP_ENV gets the
    # strict checks, never development's mailbox and generated secrets.
    env = environ.get("APP_ENV", "").strip() or "production"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    production = env == "production"

    def setting(name, default=None, alias=None):
        value = environ.get(name, "").strip() or (alias and environ.get(alias, "").strip())
        if value:
            return value
        if production and name in REQUIRED_IN_PRODUCTION:
            raise ConfigError(f"{name} is not set; production needs it")
        if name in SECRETS:
            if env == "development":
                return development_secret(name)
            raise ConfigError(f"{name} is not set; APP_ENV={env} needs it")
        return default

    def number(name, default):
        raw = setting(name, str(default))
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None

    def choice(name, allowed):
        value = setting(name, allowed[0]).lower()
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def flag(name, default=False):
        return setting(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")

    secret_key, jwt_secret_key = setting("SECRET_KEY"), setting("JWT_SECRET_KEY")  # first: the line names them
    mail_server = setting("MAIL_SERVER")
    return {
        "APP_ENV": env,
        "TESTING": env == "test",
        "SECRET_KEY": secret_key,
        "MONGODB_URI": setting(
            "MONGODB_URI",
            f"mongodb://127.0.0.1:{DEV_MONGODB_PORT}/parley?directConnection=true",
        ),
        "REDIS_URL": setting("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "RABBITMQ_URL": setting("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F", alias="CLOUDAMQP_URL"),
        # Namespaces, so test runs and benchmarks never touch each other's data.
        "KEY_PREFIX": setting("KEY_PREFIX", "parley:"),
        "QUEUE_PREFIX": setting("QUEUE_PREFIX", ""),
        # Mail (Flask-Mail's own names). Unset in development: the local sink.
        "MAIL_SERVER": mail_server or "127.0.0.1",
        "MAIL_PORT": number("MAIL_PORT", 587 if mail_server else DEV_SMTP_PORT),
        "MAIL_USE_TLS": flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": setting("MAIL_USERNAME"),
        "MAIL_PASSWORD": setting("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": setting("MAIL_DEFAULT_SENDER", "Parley <no-reply@parley.localhost>"),
        "MAIL_SUPPRESS_SEND": False,  # tests send too, to a real SMTP server
        # Where the development SMTP sink writes; /dev/mailbox reads it.
        "DEV_MAILBOX": setting("DEV_MAILBOX", os.path.abspath("var/mailbox")),
        # Images: Cloudinary when set, else stored under UPLOAD_DIR.
        "CLOUDINARY_URL": setting("CLOUDINARY_URL"),
        "UPLOAD_DIR": setting("UPLOAD_DIR", os.path.abspath("var/uploads")),
        "MAX_IMAGE_BYTES": number("MAX_IMAGE_BYTES", 5 * 1024 * 1024),
        "MAX_IMAGE_PIXELS": number("MAX_IMAGE_PIXELS", 40_000_000),  # decoded, over every frame
        # Sign-in limits, written "5 per hour" (see app/auth/throttle.py).
        "SIGNIN_LIMIT_PER_EMAIL": setting("SIGNIN_LIMIT_PER_EMAIL", "5 per hour"),  # per address and browser
        "SIGNIN_LIMIT_PER_EMAIL_ALL": setting("SIGNIN_LIMIT_PER_EMAIL_ALL", "20 per hour"),  # then it slows
        "SIGNIN_LIMIT_PER_IP": setting("SIGNIN_LIMIT_PER_IP", "30 per hour"),
        "SIGNIN_RESEND_COOLDOWN": number("SIGNIN_RESEND_COOLDOWN", 30),
        # JWT in cookies. CSRF: see app/auth/sessions.py.
        "JWT_SECRET_KEY": jwt_secret_key,
        "JWT_TOKEN_LOCATION": ["cookies"],
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=15),
        "JWT_COOKIE_SECURE": production,
        "JWT_COOKIE_SAMESITE": "Lax",
        "JWT_COOKIE_CSRF_PROTECT": False,
        "JWT_REFRESH_COOKIE_PATH": "/",
        "JWT_SESSION_COOKIE": False,
        "WTF_CSRF_TIME_LIMIT": None,  # a chat tab stays open for days
        "WTF_CSRF_SSL_STRICT": production,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SERVER_TIMING": flag("SERVER_TIMING", default=not production),
        # Who people search finds: see app/people/search.py.
        "DIRECTORY": choice("DIRECTORY", ("private", "open")),
        # gunicorn's worker_connections (gunicorn.conf.py reads it too): event streams get half.
        "WORKER_CONNECTIONS": number("WORKER_CONNECTIONS", 1000),
        "HANDSHAKES_PER_IP": number("HANDSHAKES_PER_IP", 20),  # sockets before their hello, per process
    }


def development_secret(name, folder=None):
    """Development's `name`: made on first use and kept in `folder`, so it
    survives restarts but no two checkouts share it, and none is in the code."""
    folder = folder or DEV_SECRETS_DIR
    path = os.path.join(folder, name)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        # O_EXCL: of processes starting together, one writes it and the rest read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
    for _ in range(50):
        with open(path) as file:
            value = file.read().strip()
        if value:
            return value
        time.sleep(0.01)  # the writer has created it but not written it yet
    raise ConfigError(f"{name}: {path} is empty; remove it and start again")
