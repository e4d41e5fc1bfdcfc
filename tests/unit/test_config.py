import os
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


def test_development_has_local_defaults(secrets_dir):
    settings = config.load({"APP_ENV": "development"})
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


def test_cloudamqp_url_is_accepted():
    environ = {key: value for key, value in PRODUCTION.items() if key != "RABBITMQ_URL"}
    environ["CLOUDAMQP_URL"] = "amqps://cloudamqp.example/vhost"
    assert config.load(environ)["RABBITMQ_URL"] == "amqps://cloudamqp.example/vhost"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"APP_ENV": "development", "MAIL_PORT": "twenty-five"}, "MAIL_PORT"),
        ({"APP_ENV": "development", "MAX_IMAGE_BYTES": "5MB"}, "MAX_IMAGE_BYTES"),
    ],
)
def test_malformed_settings_are_named(environ, message, secrets_dir):
    with pytest.raises(config.ConfigError, match=message):
        config.load(environ)


@pytest.mark.parametrize("module", ["wsgi", "workers.mail", "workers.chat"])
def test_processes_refuse_to_start_with_one_clear_line(tmp_path, module):
    env = {key: value for key, value in os.environ.items() if key not in config.REQUIRED_IN_PRODUCTION}
    env.update({key: value for key, value in PRODUCTION.items() if key != "JWT_SECRET_KEY"})
    env["JWT_SECRET_KEY"] = ""
    code = f"import {module}" if module == "wsgi" else f"import {module}; {module}.main()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Parley cannot start: JWT_SECRET_KEY is not set; production needs it"]


def test_an_unset_app_env_is_production_and_needs_every_secret():
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set; production needs it"):
        config.load({})
    assert config.load(PRODUCTION | {"APP_ENV": ""})["APP_ENV"] == "production"


def test_test_needs_its_secrets_too():
    with pytest.raises(config.ConfigError, match="SECRET_KEY is not set; APP_ENV=test needs it"):
        config.load({"APP_ENV": "test"})


def test_development_secrets_are_generated_once_and_kept(secrets_dir):
    first = config.load({"APP_ENV": "development"})
    again = config.load({"APP_ENV": "development"})
    assert first["SECRET_KEY"] == again["SECRET_KEY"] and first["JWT_SECRET_KEY"] == again["JWT_SECRET_KEY"]
    assert first["SECRET_KEY"] != first["JWT_SECRET_KEY"] and len(first["SECRET_KEY"]) >= 40
    assert oct((secrets_dir / "SECRET_KEY").stat().st_mode & 0o777) == "0o600"
    assert "never-deploy" not in first["JWT_SECRET_KEY"]  # the fixed key that used to be in this file
    assert config.load({"APP_ENV": "development", "SECRET_KEY": "mine"})["SECRET_KEY"] == "mine"


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
