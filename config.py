"""Configuration, read from the environment only (12-factor).

Development gets safe defaults so `make run` works on a bare machine, its
secrets generated on first run and kept under var/. Nothing else has a
default secret: production (also what an unset APP_ENV means) refuses to start
without its secrets and service URLs, and test without its secrets. Every
setting is parsed and checked here, when any process starts: a bad value
stops start-up with one line naming the variable, what was given and what
is expected, rather than a 500 on the first request that reads it.
"""

import os
import re
import secrets
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from dotenv import load_dotenv
from pymongo.errors import ConfigurationError, InvalidURI
from pymongo.uri_parser import parse_uri

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
    "PUBLIC_URL",
)
# Needed everywhere but development, which generates its own.
SECRETS = ("SECRET_KEY", "JWT_SECRET_KEY")
DEV_SECRETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "var", "secrets")
# Never repeated in an error message, whatever was given.
NEVER_SHOWN = (*SECRETS, "MAIL_PASSWORD", "VAPID_PRIVATE_KEY")
MIN_SECRET_LENGTH = 32
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}

DEV_MONGODB_PORT = 27018
DEV_SMTP_PORT = 1025
DEFAULT_DATABASE = "parley"  # when MONGODB_URI names none, as Atlas's often do
# Small Redis plans allow about 20 connections; see README "Deploying" for the budget.
DEFAULT_REDIS_POOL_SIZE = 8
QUEUE_TYPES = ("quorum", "classic")
REDIS_SCHEMES = ("redis", "rediss", "redis+cluster", "rediss+cluster")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@contextmanager
def or_exit():
    """For a process's entry point: a configuration error is one clear line, not a traceback."""
    try:
        yield
    except ConfigError as error:
        sys.exit(f"Parley cannot start: {error}")


# Parsers: each takes the raw text and returns the value, or raises
# ValueError with what is expected.


def whole_number(low, high=None):
    def parse(raw):
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            span = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
            raise ValueError(f"a whole number {span}")
        return value

    return parse


port = whole_number(1, 65535)


def flag(raw):
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false (1/0, yes/no, on/off)")


def one_of(*choices):
    def parse(raw):
        if raw not in choices:
            raise ValueError(" or ".join(repr(choice) for choice in choices))
        return raw

    return parse


def secret(raw):
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(
            f"at least {MIN_SECRET_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return raw


def url(*schemes, example=None):
    def parse(raw):
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 -- raises on a malformed port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"a URL such as {example or schemes[0] + '://host/...'}")
        return raw

    return parse


def cloudinary_url(raw):
    url("cloudinary", example="cloudinary://API_KEY:API_SECRET@CLOUD_NAME")(raw)
    parts = urlsplit(raw)
    if not (parts.username and parts.password):
        raise ValueError("a URL such as cloudinary://API_KEY:API_SECRET@CLOUD_NAME")
    return raw


def mongodb_uri(raw):
    """A mongodb:// or mongodb+srv:// URI. An SRV URI is checked as its plain
    form, so start-up makes no DNS query; pymongo resolves it on connecting."""
    plain = "mongodb://" + raw[len("mongodb+srv://") :] if raw.startswith("mongodb+srv://") else raw
    try:
        parse_uri(plain, validate=True)
    except (InvalidURI, ConfigurationError, ValueError) as error:
        raise ValueError(f"a MongoDB URI such as mongodb+srv://user:pass@cluster.example/parley ({error})") from None
    return raw


def redis_tls_verify(raw):
    if raw in ("required", "none") or os.path.isfile(raw):
        return raw
    raise ValueError("'required', 'none' or the path of a CA bundle file")


def vapid_private_key(raw):
    """A VAPID private key (P-256): its 32 bytes in base64url, or DER in base64url, as py_vapid reads them."""
    from py_vapid import Vapid

    try:
        Vapid.from_string(raw)
    except Exception:
        raise ValueError(
            "a P-256 private key in base64url (python -c 'import config; print(config.new_vapid_key())')"
        ) from None
    return raw


def public_url(raw):
    url("https", "http", example="https://parley.example.com")(raw)
    parts = urlsplit(raw)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the address people open Parley at, such as https://parley.example.com, with no path")
    return raw.rstrip("/")


def vapid_subject(raw):
    if not re.fullmatch(r"(mailto:[^@\s]+@[^@\s]+|https://\S+)", raw):
        raise ValueError("a mailto: address or an https:// URL where push services can reach the operator")
    return raw


def rate(text):
    """(count, seconds) of a limit written "5 per hour" or "20 per 5 minutes" (see app/auth/throttle.py)."""
    found = re.fullmatch(r"\s*(\d+)\s*(?:per|/)\s*(\d*)\s*(second|minute|hour|day)s?\s*", text or "")
    if not found:
        raise ValueError("a limit such as '30 per hour' or '20 per 5 minutes'")
    count, every, unit = found.groups()
    return int(count), int(every or 1) * UNITS[unit]


def sender(raw):
    name, address = parseaddr(raw)
    if "@" not in address:
        raise ValueError("an address such as 'Parley <no-reply@example.com>'")
    return raw


def hostname(raw):
    if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", raw):
        raise ValueError("a host name or address such as smtp.example.com")
    return raw


def prefix(allow_empty):
    def parse(raw):
        if not re.fullmatch(r"[A-Za-z0-9:._-]*" if allow_empty else r"[A-Za-z0-9:._-]+", raw):
            raise ValueError("letters, digits and : . _ - only")
        return raw

    return parse


def origins(raw):
    """Origins such as 'https://chat.example.com, http://localhost:3003': scheme, host and port, no path."""
    found = []
    for origin in (part.strip() for part in raw.split(",")):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ValueError("origins such as 'https://chat.example.com,http://localhost:3003' (no path)")
        found.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return tuple(found)


def directory(raw):
    if os.path.exists(raw) and not os.path.isdir(raw):
        raise ValueError("a directory (this is a file)")
    return os.path.abspath(raw)


def shown(name, raw):
    """What an error message may repeat of a value: no secret, no password in a URL."""
    if name in NEVER_SHOWN:
        return f"{len(raw)} characters"
    try:
        parts = urlsplit(raw)
        if parts.password:
            return repr(raw.replace(":" + parts.password + "@", ":***@", 1))
    except ValueError:
        pass
    return repr(raw)


def load(environ=None):
    """Build the Flask config mapping from `environ` (default: os.environ + .env)."""
    if environ is None:
        load_dotenv(override=False)  # real environment variables win over .env
        environ = os.environ
    # Unset means production: a deployment that forgets APP_ENV gets the
    # strict checks, never development's mailbox and generated secrets.
    env = environ.get("APP_ENV", "").strip() or "production"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV is {env!r}; expected {' or '.join(repr(e) for e in ENVIRONMENTS)}")
    production = env == "production"

    def setting(name, default=None, parse=None, alias=None):
        given_as = name
        value = environ.get(name, "").strip()
        if not value and alias and environ.get(alias, "").strip():
            given_as, value = alias, environ[alias].strip()
        if not value:
            if production and name in REQUIRED_IN_PRODUCTION:
                raise ConfigError(f"{name} is not set; production needs it")
            if name in SECRETS:
                if env == "development":
                    return development_secret(name)
                raise ConfigError(f"{name} is not set; APP_ENV={env} needs it")
            if name in GENERATED_IN_DEVELOPMENT and env == "development":
                return development_secret(name, make=GENERATED_IN_DEVELOPMENT[name])
            return default
        if parse is None:
            return value
        try:
            return parse(value)
        except ValueError as expected:
            raise ConfigError(f"{given_as} is {shown(given_as, value)}; expected {expected}") from None

    secret_check = secret if production else None
    port_number = setting("PORT", 5000, parse=port)
    vapid_key = setting("VAPID_PRIVATE_KEY", parse=vapid_private_key)
    # First: the line names them.
    secret_key = setting("SECRET_KEY", parse=secret_check)
    jwt_secret_key = setting("JWT_SECRET_KEY", parse=secret_check)
    mail_server = setting("MAIL_SERVER", parse=hostname)
    # A real provider: STARTTLS on 587 (the default port), SSL on 465. The
    # local sink, and any other port unless told, speak plain SMTP.
    ssl_asked = setting("MAIL_USE_SSL", parse=flag)
    mail_port = setting("MAIL_PORT", 465 if ssl_asked else 587 if mail_server else DEV_SMTP_PORT, parse=port)
    mail_ssl = mail_port == 465 if ssl_asked is None else ssl_asked
    mail_tls = setting("MAIL_USE_TLS", mail_port == 587 and not mail_ssl, parse=flag)
    if mail_tls and mail_ssl:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL are both on; expected one: STARTTLS (587) or SSL (465)")
    api_origins = setting("API_ORIGINS", (), parse=origins)
    # The original's clients on another site send their cookies only if they
    # are SameSite=None, which browsers take only with Secure (production's).
    samesite = "None" if production and api_origins else "Lax"
    mail_username, mail_password = setting("MAIL_USERNAME"), setting("MAIL_PASSWORD")
    if bool(mail_username) != bool(mail_password):
        given, missing = ("MAIL_USERNAME", "MAIL_PASSWORD") if mail_username else ("MAIL_PASSWORD", "MAIL_USERNAME")
        raise ConfigError(f"{given} is set but {missing} is not; expected both or neither")
    public = setting("PUBLIC_URL", f"http://127.0.0.1:{port_number}", parse=public_url)
    if production and not public.startswith("https://"):
        raise ConfigError(f"PUBLIC_URL is {public!r}; expected an https:// address in production (links in emails)")
    return {
        "APP_ENV": env,
        "TESTING": env == "test",
        "PORT": port_number,
        # Where people open Parley: the links in emails (a worker has no request to take it from).
        "PUBLIC_URL": public,
        # One when the original's clients are served: a Socket.IO polling session
        # lives in one process (docs/deploying.md, "The original's clients").
        "WEB_CONCURRENCY": setting("WEB_CONCURRENCY", 1 if api_origins else 2, parse=whole_number(1, 64)),
        "SECRET_KEY": secret_key,
        "MONGODB_URI": setting(
            "MONGODB_URI",
            f"mongodb://127.0.0.1:{DEV_MONGODB_PORT}/{DEFAULT_DATABASE}?directConnection=true",
            parse=mongodb_uri,
        ),
        # Retryable writes ride out a replica-set election; see README "Deploying" for the cost.
        "MONGODB_RETRY_WRITES": setting("MONGODB_RETRY_WRITES", production, parse=flag),
        "REDIS_URL": setting("REDIS_URL", "redis://127.0.0.1:6379/0", parse=url(*REDIS_SCHEMES)),
        "REDIS_TLS_VERIFY": setting("REDIS_TLS_VERIFY", "required", parse=redis_tls_verify),
        "REDIS_POOL_SIZE": setting("REDIS_POOL_SIZE", DEFAULT_REDIS_POOL_SIZE, parse=whole_number(2, 1000)),
        "RABBITMQ_URL": setting(
            "RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F", parse=url("amqp", "amqps"), alias="CLOUDAMQP_URL"
        ),
        # How long pushes are kept for pages that reconnect (app/realtime/push.py).
        "PUSH_REPLAY_SECONDS": setting("PUSH_REPLAY_SECONDS", 300, parse=whole_number(10, 24 * 3600)),
        "QUEUE_TYPE": setting("QUEUE_TYPE", "quorum" if production else "classic", parse=one_of(*QUEUE_TYPES)),
        # Namespaces, so test runs and benchmarks never touch each other's data.
        "KEY_PREFIX": setting("KEY_PREFIX", "parley:", parse=prefix(allow_empty=False)),
        "QUEUE_PREFIX": setting("QUEUE_PREFIX", "", parse=prefix(allow_empty=True)),
        # Mail (Flask-Mail's own names). Unset in development: the local sink.
        "MAIL_SERVER": mail_server or "127.0.0.1",
        "MAIL_PORT": mail_port,
        "MAIL_USE_TLS": mail_tls,
        "MAIL_USE_SSL": mail_ssl,
        "MAIL_USERNAME": mail_username,
        "MAIL_PASSWORD": mail_password,
        "MAIL_DEFAULT_SENDER": setting("MAIL_DEFAULT_SENDER", "Parley <no-reply@parley.localhost>", parse=sender),
        "MAIL_SUPPRESS_SEND": False,  # tests send too, to a real SMTP server
        # Where the development SMTP sink writes; /dev/mailbox reads it.
        "DEV_MAILBOX": setting("DEV_MAILBOX", os.path.abspath("var/mailbox"), parse=directory),
        # Images: Cloudinary when set, else stored under UPLOAD_DIR.
        "CLOUDINARY_URL": setting("CLOUDINARY_URL", parse=cloudinary_url),
        "UPLOAD_DIR": setting("UPLOAD_DIR", os.path.abspath("var/uploads"), parse=directory),
        "MAX_IMAGE_BYTES": setting("MAX_IMAGE_BYTES", 5 * 1024 * 1024, parse=whole_number(1024)),
        # Decoded, over every frame.
        "MAX_IMAGE_PIXELS": setting("MAX_IMAGE_PIXELS", 40_000_000, parse=whole_number(1)),
        # Sign-in limits, written "5 per hour" and kept as (count, seconds) (see
        # app/auth/throttle.py): per address and browser, per address from
        # everyone (then it slows), per IP.
        "SIGNIN_LIMIT_PER_EMAIL": setting("SIGNIN_LIMIT_PER_EMAIL", rate("5 per hour"), parse=rate),
        "SIGNIN_LIMIT_PER_EMAIL_ALL": setting("SIGNIN_LIMIT_PER_EMAIL_ALL", rate("20 per hour"), parse=rate),
        "SIGNIN_LIMIT_PER_IP": setting("SIGNIN_LIMIT_PER_IP", rate("30 per hour"), parse=rate),
        "SIGNIN_RESEND_COOLDOWN": setting("SIGNIN_RESEND_COOLDOWN", 30, parse=whole_number(1, 3600)),
        # JWT in cookies. CSRF: see app/auth/sessions.py.
        "JWT_SECRET_KEY": jwt_secret_key,
        "JWT_TOKEN_LOCATION": ["cookies"],
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=15),
        # The original system's names: its clients (app/api) and pages share the sessions.
        "JWT_ACCESS_COOKIE_NAME": "accessToken",
        "JWT_REFRESH_COOKIE_NAME": "refreshToken",
        "JWT_COOKIE_SECURE": production,
        "JWT_COOKIE_SAMESITE": samesite,
        "JWT_COOKIE_CSRF_PROTECT": False,
        "JWT_REFRESH_COOKIE_PATH": "/",
        "JWT_SESSION_COOKIE": False,
        "WTF_CSRF_TIME_LIMIT": None,  # a chat tab stays open for days
        "WTF_CSRF_SSL_STRICT": production,
        "SESSION_COOKIE_SAMESITE": samesite,
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SERVER_TIMING": setting("SERVER_TIMING", not production, parse=flag),
        # Who people search finds: see app/people/search.py.
        "DIRECTORY": setting("DIRECTORY", "private", parse=one_of("private", "open")),
        # Sites whose scripts may use /api/v1 and /socket.io with the person's cookies (app/api/origins.py).
        "API_ORIGINS": api_origins,
        # gunicorn's worker_connections (gunicorn.conf.py reads it too): event streams get half.
        "WORKER_CONNECTIONS": setting("WORKER_CONNECTIONS", 1000, parse=whole_number(10)),
        "HANDSHAKES_PER_IP": setting("HANDSHAKES_PER_IP", 20, parse=whole_number(1)),  # sockets before their hello
        # Proxies in front of the app whose X-Forwarded-* headers are believed
        # (Heroku's router: 1). None by default: a client that reaches the app
        # directly would otherwise choose its own address, and with it its limits.
        "TRUSTED_PROXIES": setting("TRUSTED_PROXIES", 0, parse=whole_number(0, 10)),
        # Missed-message emails (app/notifications): seconds from a message nobody saw to the
        # email about it, for everyone on the default timing; and whether emails may quote messages.
        "MISSED_MESSAGE_DELAY": setting("MISSED_MESSAGE_DELAY", 600, parse=whole_number(1, 86400)),
        "MISSED_MESSAGE_TEXT": setting("MISSED_MESSAGE_TEXT", True, parse=flag),
        # Web Push: off (the button hidden) without a key; development generates one.
        "VAPID_PRIVATE_KEY": vapid_key,
        "VAPID_SUBJECT": setting("VAPID_SUBJECT", parse=vapid_subject),
    }


def new_vapid_key():
    """A new VAPID private key, as VAPID_PRIVATE_KEY takes it."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    number = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


# Optional settings that development makes for itself, like its secrets.
GENERATED_IN_DEVELOPMENT = {"VAPID_PRIVATE_KEY": new_vapid_key}


def development_secret(name, folder=None, make=None):
    """Development's `name`: made on first use and kept in `folder`, so it
    survives restarts but no two checkouts share it, and none is in the code."""
    folder = folder or DEV_SECRETS_DIR
    make = make or (lambda: secrets.token_urlsafe(32))
    path = os.path.join(folder, name)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        # O_EXCL: of processes starting together, one writes it and the rest read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(make())
    for _ in range(50):
        with open(path) as file:
            value = file.read().strip()
        if value:
            return value
        time.sleep(0.01)  # the writer has created it but not written it yet
    raise ConfigError(f"{name}: {path} is empty; remove it and start again")
