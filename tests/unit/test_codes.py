"""Sign-in codes: what they are, with no service behind them."""

import re

import pytest
from flask import Flask

from app.auth import codes


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "a-test-secret"
    return app


def test_codes_are_six_random_digits():
    drawn = {codes.new_code() for _ in range(2000)}
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in drawn)
    assert len(drawn) > 1990  # random, not a counter or a constant


def test_codes_are_stored_hashed_and_bound_to_the_email(app):
    with app.app_context():
        digest = codes.digest("ann@example.com", "123456")
        assert digest == codes.digest("ann@example.com", "123456")
        assert "123456" not in digest
        assert digest != codes.digest("bob@example.com", "123456")
        assert digest != codes.digest("ann@example.com", "123457")
