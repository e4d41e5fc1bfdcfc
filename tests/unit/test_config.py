import os
import re
import subprocess
import sys

import pytest

import config
from tests.support.services import ROOT
from tests.support.settings import PRODUCTION


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DEV_SECRETS_DIR", str(tmp_path / "secrets"))
    return tmp_path / "secrets"


DEVELOPMENT = {"APP_ENV": "development"}


def test_development_has_local_defaults(secrets_dir):
    settings = config.load(DEVELOPMENT)
    assert settings["APP_ENV"] == "development"
    assert settings["MONGODB_URI"].startswith(f"mongodb://127.0.0.1:{config.DEV_MONGODB_PORT}/parley")
    assert settings["MAIL_PORT"] == config.DEV_SMTP_PORT
    assert settings["JWT_COOKIE_SECURE"] is False
    assert settings["MAX_IMAGE_BYTES"] == 5 * 1024 * 1024


def test_production_with_everything_set():
    settings = config.load(PRODUCTION)
    assert settings["JWT_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["MAIL_PORT"] == 587


@pytest.mark.parametrize("name", config.REQUIRED_IN_PRODUCTION)
def test_production_names_the_missing_variable(name):
    environ = {key: value for key, value in PRODUCTION.items() if key != name}
    with pytest.raises(config.ConfigError, match=name):
        config.load(environ)


def test_production_links_in_emails_are_https():
    with pytest.raises(config.ConfigError, match="PUBLIC_URL is 'http://parley.example'; expected an https://"):
        config.load({**PRODUCTION, "PUBLIC_URL": "http://parley.example"})
    assert config.load({**PRODUCTION, "PUBLIC_URL": "https://parley.example/"})["PUBLIC_URL"] == "https://parley.example"


def test_cloudamqp_url_is_accepted():
    environ = {key: value for key, value in PRODUCTION.items() if key != "RABBITMQ_URL"}
    environ["CLOUDAMQP_URL"] = "amqps://cloudamqp.example/vhost"
    assert config.load(environ)["RABBITMQ_URL"] == "amqps://cloudamqp.example/vhost"


A_FILE = os.path.join(ROOT, "README.md")

# One malformed value for every variable in .env.example (the README's table).
MALFORMED = {
    "APP_ENV": "staging",
    "PORT": "70000",
    "WEB_CONCURRENCY": "0",
    "SECRET_KEY": "short",
    "JWT_SECRET_KEY": "short",
    "MONGODB_URI": "postgres://db.example/parley",
    "MONGODB_RETRY_WRITES": "maybe",
    "REDIS_URL": "http://cache.example",
    "REDIS_TLS_VERIFY": "/no/such/ca.pem",
    "REDIS_POOL_SIZE": "many",
    "PUSH_REPLAY_SECONDS": "5 minutes",
    "RABBITMQ_URL": "http://broker.example",
    "CLOUDAMQP_URL": "amqps://",
    "QUEUE_TYPE": "mirrored",
    "MAIL_SERVER": "smtp example.com",
    "MAIL_PORT": "twenty-five",
    "MAIL_USE_TLS": "maybe",
    "MAIL_USE_SSL": "2",
    "MAIL_USERNAME": "parley",  # without MAIL_PASSWORD
    "MAIL_PASSWORD": "hunter2",  # without MAIL_USERNAME
    "MAIL_DEFAULT_SENDER": "Parley",
    "CLOUDINARY_URL": "cloudinary://cloud-name",
    "MAX_IMAGE_BYTES": "5MB",
    "KEY_PREFIX": "my keys:",
    "QUEUE_PREFIX": "a/b",
    "MAX_IMAGE_PIXELS": "lots",
    "SIGNIN_LIMIT_PER_EMAIL": "5",
    "SIGNIN_LIMIT_PER_EMAIL_ALL": "20 an hour",
    "SIGNIN_LIMIT_PER_IP": "10000",
    "SIGNIN_RESEND_COOLDOWN": "-1",
    "UPLOAD_DIR": A_FILE,
    "DEV_MAILBOX": A_FILE,
    "SERVER_TIMING": "sometimes",
    "DIRECTORY": "public",
    "API_ORIGINS": "chat.example.com",
    "WORKER_CONNECTIONS": "0",
    "HANDSHAKES_PER_IP": "-5",
    "TRUSTED_PROXIES": "all",
    "PUBLIC_URL": "https://parley.example/app",
    "MISSED_MESSAGE_DELAY": "10 minutes",
    "MISSED_MESSAGE_TEXT": "sometimes",
    "VAPID_PRIVATE_KEY": "not-a-key",
    "VAPID_SUBJECT": "admin@example.com",
}


def documented_variables():
    with open(os.path.join(ROOT, ".env.example")) as file:
        return {line.split("=", 1)[0] for line in file if re.match(r"^[A-Z_]+=", line)}


def test_every_documented_variable_has_a_malformed_case():
    assert documented_variables() == set(MALFORMED)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_setting_stops_start_up_with_one_line_naming_it(name):
    environ = {**PRODUCTION, "RABBITMQ_URL": "", name: MALFORMED[name]}
    if name != "CLOUDAMQP_URL":
        environ["CLOUDAMQP_URL"] = PRODUCTION["RABBITMQ_URL"]
    with pytest.raises(config.ConfigError) as raised:
        config.load(environ)
    line = str(raised.value)
    assert "\n" not in line and line.startswith(name) and "expected" in line
    if name in config.NEVER_SHOWN:
        assert MALFORMED[name] not in line
    elif name != "MAIL_USERNAME":  # named, with the one it lacks
        assert repr(MALFORMED[name]) in line


def test_a_password_in_a_url_is_not_repeated():
    with pytest.raises(config.ConfigError) as raised:
        config.load({**PRODUCTION, "RABBITMQ_URL": "http://user:hunter2@broker.example/"})
    assert "hunter2" not in str(raised.value) and "user:***@" in str(raised.value)


@pytest.mark.parametrize(
    "environ, port, tls, ssl",
    [
        ({"MAIL_SERVER": "smtp.example"}, 587, True, False),
        ({"MAIL_SERVER": "smtp.example", "MAIL_PORT": "465"}, 465, False, True),
        ({"MAIL_SERVER": "smtp.example", "MAIL_USE_SSL": "1"}, 465, False, True),
        ({"MAIL_SERVER": "smtp.example", "MAIL_PORT": "2525"}, 2525, False, False),
        ({"MAIL_SERVER": "smtp.example", "MAIL_PORT": "2525", "MAIL_USE_TLS": "yes"}, 2525, True, False),
        ({}, config.DEV_SMTP_PORT, False, False),
    ],
)
def test_smtp_uses_starttls_on_587_and_ssl_on_465_by_default(environ, port, tls, ssl, secrets_dir):
    settings = config.load(DEVELOPMENT | environ)
    assert (settings["MAIL_PORT"], settings["MAIL_USE_TLS"], settings["MAIL_USE_SSL"]) == (port, tls, ssl)


def test_both_smtp_encryptions_at_once_are_refused():
    with pytest.raises(config.ConfigError, match="MAIL_USE_TLS and MAIL_USE_SSL"):
        config.load(PRODUCTION | {"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"})


def test_sign_in_limits_are_parsed_once_at_start_up(secrets_dir):
    limits = {"SIGNIN_LIMIT_PER_IP": "50 per 10 minutes", "SIGNIN_LIMIT_PER_EMAIL": "3/day"}
    settings = config.load(DEVELOPMENT | limits)
    assert settings["SIGNIN_LIMIT_PER_IP"] == (50, 600)
    assert settings["SIGNIN_LIMIT_PER_EMAIL"] == (3, 24 * 3600)
    assert settings["SIGNIN_LIMIT_PER_EMAIL_ALL"] == (20, 3600)  # the default, parsed too


def test_production_defaults_for_managed_services():
    settings = config.load(PRODUCTION)
    assert settings["QUEUE_TYPE"] == "quorum"
    assert settings["MONGODB_RETRY_WRITES"] is True
    assert settings["REDIS_TLS_VERIFY"] == "required"
    assert settings["REDIS_POOL_SIZE"] == config.DEFAULT_REDIS_POOL_SIZE
    assert config.load({**PRODUCTION, "MONGODB_RETRY_WRITES": "off"})["MONGODB_RETRY_WRITES"] is False


def test_an_srv_uri_without_a_database_is_accepted_without_dns():
    uri = "mongodb+srv://user:pass@cluster0.nowhere.invalid/?retryWrites=true&w=majority"
    assert config.load({**PRODUCTION, "MONGODB_URI": uri})["MONGODB_URI"] == uri


def run_entry_point(command, env, cwd):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


ENTRY_POINTS = {
    "web": [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
    "chat_worker": [sys.executable, "-m", "workers.chat"],
    "mail_worker": [sys.executable, "-m", "workers.mail"],
    "notify_worker": [sys.executable, "-m", "workers.notify"],
    "release": [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi", "release"],
}


@pytest.mark.process
@pytest.mark.parametrize("process", sorted(ENTRY_POINTS))
def test_every_process_refuses_a_missing_secret_with_one_clear_line(process):
    env = {key: value for key, value in os.environ.items() if key not in config.REQUIRED_IN_PRODUCTION}
    env.update({**PRODUCTION, "JWT_SECRET_KEY": ""})
    result = run_entry_point(ENTRY_POINTS[process], env, ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Parley cannot start: JWT_SECRET_KEY is not set; production needs it"]


@pytest.mark.process
@pytest.mark.parametrize("process", sorted(ENTRY_POINTS))
def test_every_process_refuses_a_malformed_limit_with_one_clear_line(process):
    env = {**os.environ, "APP_ENV": "development", "SIGNIN_LIMIT_PER_IP": "10000"}
    result = run_entry_point(ENTRY_POINTS[process], env, ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Parley cannot start: SIGNIN_LIMIT_PER_IP is '10000'; "
        "expected a limit such as '30 per hour' or '20 per 5 minutes'"
    ]


def test_an_unset_app_env_is_production_and_needs_every_secret():
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set; production needs it"):
        config.load({})
    assert config.load(PRODUCTION | {"APP_ENV": ""})["APP_ENV"] == "production"


def test_test_needs_its_secrets_too():
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set; APP_ENV=test needs it"):
        config.load({"APP_ENV": "test"})


def test_development_secrets_are_generated_once_and_kept(secrets_dir):
    first = config.load(DEVELOPMENT)
    again = config.load(DEVELOPMENT)
    assert first["SECRET_KEY"] == again["SECRET_KEY"] and first["JWT_SECRET_KEY"] == again["JWT_SECRET_KEY"]
    assert first["SECRET_KEY"] != first["JWT_SECRET_KEY"] and len(first["SECRET_KEY"]) >= 40
    assert oct((secrets_dir / "SECRET_KEY").stat().st_mode & 0o777) == "0o600"
    assert "never-deploy" not in first["JWT_SECRET_KEY"]  # the fixed key that used to be in this file
    assert config.load(DEVELOPMENT | {"SECRET_KEY": "mine"})["SECRET_KEY"] == "mine"


@pytest.mark.process
def test_processes_with_app_env_unset_refuse_to_start_with_one_clear_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in (*config.REQUIRED_IN_PRODUCTION, "APP_ENV")}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Parley cannot start: SECRET_KEY is not set; production needs it"]


def test_api_origins_are_whole_origins():
    found = config.load({**PRODUCTION, "API_ORIGINS": "https://Chat.Example.com, http://localhost:3003"})
    assert found["API_ORIGINS"] == ("https://chat.example.com", "http://localhost:3003")
    assert config.load(PRODUCTION)["API_ORIGINS"] == ()
    for bad in ("chat.example.com", "https://chat.example.com/app", "ftp://x.example"):
        with pytest.raises(config.ConfigError, match="API_ORIGINS"):
            config.load({**PRODUCTION, "API_ORIGINS": bad})


def test_serving_the_originals_clients_means_one_worker_unless_told():
    assert config.load(PRODUCTION)["WEB_CONCURRENCY"] == 2
    assert config.load({**PRODUCTION, "API_ORIGINS": "https://chat.example.com"})["WEB_CONCURRENCY"] == 1
    told = {**PRODUCTION, "API_ORIGINS": "https://chat.example.com", "WEB_CONCURRENCY": "3"}
    assert config.load(told)["WEB_CONCURRENCY"] == 3
