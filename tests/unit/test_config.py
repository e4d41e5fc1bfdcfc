import os
import subprocess
import sys

import pytest

import config
from tests.support.services import ROOT
from tests.support.settings import PRODUCTION


def test_development_has_local_defaults():
    settings = config.load({})
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
        ({"MAIL_PORT": "twenty-five"}, "MAIL_PORT"),
        ({"MAX_IMAGE_BYTES": "5MB"}, "MAX_IMAGE_BYTES"),
    ],
)
def test_malformed_settings_are_named(environ, message):
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
