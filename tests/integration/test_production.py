"""Parley as a platform runs it: APP_ENV=production, Redis over TLS with a
self-signed certificate (REDIS_TLS_VERIFY=none), SMTP over STARTTLS, a
MongoDB URI naming no database, quorum queues, the release command, then
/readyz and a person who signs in and sends a message."""

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from types import SimpleNamespace

import pymongo
import pytest

from tests.support.queues import code_job
from tests.support.services import (
    ROOT,
    Certificates,
    FakeCloudinary,
    Inbox,
    PrivateRedis,
    SecantusDB,
    wait_for,
)

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


@pytest.fixture
def certificates():
    made = Certificates()
    yield made
    made.remove()


@pytest.fixture
def platform(namespace, certificates):
    """The services a platform's add-ons would give, and the variables it would set."""
    redis_tls, mongo, cloudinary = PrivateRedis(certificates=certificates), SecantusDB(), FakeCloudinary()
    inbox = Inbox(certificates=certificates)
    env = {
        **os.environ,
        **namespace,
        "APP_ENV": "production",
        "SECRET_KEY": "a-production-secret-of-at-least-32-chars",
        "JWT_SECRET_KEY": "another-production-secret-of-32-chars+",
        "MONGODB_URI": mongo.url(""),  # names no database
        "REDIS_URL": redis_tls.url,
        "REDIS_TLS_VERIFY": "none",
        "QUEUE_TYPE": "",  # production's default: quorum
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(inbox.port),
        "MAIL_USE_TLS": "true",
        "CLOUDINARY_URL": cloudinary.url,
        "TRUSTED_PROXIES": "1",  # app.json's: the router
        "PUBLIC_URL": "https://parley.example",
    }
    yield SimpleNamespace(env=env, redis=redis_tls, mongo=mongo, inbox=inbox)
    for service in (redis_tls, mongo, inbox, cloudinary):
        service.stop()


def release(env):
    return subprocess.run([FLASK, "--app", "wsgi", "release"], cwd=ROOT, env=env, capture_output=True, text=True)


class Browser:
    """Cookies and forms over plain HTTP, as if behind the platform's HTTPS router."""

    def __init__(self, base):
        self.base = base
        self.cookies = {}

    def request(self, path, form=None, headers=None):
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(form).encode() if form is not None else None,
            headers={
                "X-Forwarded-Proto": "https",
                "Referer": self.base + "/",
                "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
                **(headers or {}),
            },
        )
        try:
            response = urllib.request.build_opener(NoRedirects).open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, response.headers, response.read().decode()

    def csrf(self, path):
        return re.search(r'name="csrf_token" value="([^"]+)"', self.request(path)[2]).group(1)

    def sign_in(self, email, inbox):
        assert self.request("/signin", {"email": email, "csrf_token": self.csrf("/signin")})[0] == 303
        body = inbox.wait(email).get_body(("plain",)).get_content()
        code = re.search(r"\b(\d{6})\b", body).group(1)
        assert self.request("/verify", {"code": code, "csrf_token": self.csrf("/verify")})[0] == 303


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def test_production_over_tls_from_release_to_a_sent_message(platform, processes):
    env = platform.env
    released = release(env)
    assert released.returncode == 0, released.stderr
    assert "quorum queues and indexes are in place" in released.stdout
    # The mail worker checks the mail server's certificate: it trusts the run's authority, as if a public one.
    processes.env = {**env, "SSL_CERT_FILE": platform.inbox.certificates.ca}
    web = processes.web()
    processes.worker("mail")
    processes.worker("chat")
    browser = Browser(web.url)
    status, _, body = browser.request("/readyz")
    assert status == 200 and json.loads(body)["services"] == {"redis": "ok", "rabbitmq": "ok", "mongodb": "ok"}

    alice, bob = Browser(web.url), Browser(web.url)
    alice.sign_in("alice-prod@example.com", platform.inbox)
    bob.sign_in("bob-prod@example.com", platform.inbox)
    users = pymongo.MongoClient(platform.mongo.url("")).parley.users  # the default name: the URI names none
    bob_id = users.find_one({"email": "bob-prod@example.com"})["_id"]
    status, headers, _ = alice.request("/chats", {"user_id": str(bob_id), "csrf_token": alice.csrf("/")})
    chat_url = urllib.parse.urlsplit(headers["Location"]).path
    page = alice.request(chat_url)[2]
    client_id = re.search(r'name="client_id" value="([0-9a-f]{32})"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"client_id": client_id, "text": "Over TLS", "csrf_token": token}
    assert alice.request(chat_url + "/messages", form)[0] == 303
    wait_for(lambda: "Over TLS" in bob.request(chat_url)[2], 15, what="the message on Bob's page")
    assert platform.redis.client().ping()


@pytest.mark.process
def test_a_self_signed_redis_with_verification_required_stops_start_up_with_one_line(platform):
    env = platform.env
    failed = release({**env, "REDIS_TLS_VERIFY": "required"})
    assert failed.returncode == 1
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("Parley cannot start: redis (REDIS_URL, REDIS_TLS_VERIFY) did not answer:")
    assert "CERTIFICATE_VERIFY_FAILED" in line
    trusted = release({**env, "REDIS_TLS_VERIFY": platform.redis.certificates.ca})
    assert trusted.returncode == 0, trusted.stderr


def test_amqps_urls_work_for_release_publishing_and_the_workers(namespace, inbox, processes, private_rabbit):
    from app import create_app
    from app.broker import SEND_OTP, publish

    tls_url = private_rabbit.tls_url
    env = {**namespace, "RABBITMQ_URL": "", "CLOUDAMQP_URL": tls_url}  # as CloudAMQP sets it
    names = ("KEY_PREFIX", "QUEUE_PREFIX")
    app = create_app({name: namespace[name] for name in names} | {"RABBITMQ_URL": tls_url})
    assert app.test_cli_runner().invoke(args=["release"]).exit_code == 0
    with app.app_context():
        publish(SEND_OTP, code_job("amqps@example.com"))
    processes.env.update(env)
    processes.worker("mail")
    assert inbox.wait("amqps@example.com")["Subject"] == "Your Parley sign-in code"


def test_codes_go_over_tls_only_to_a_mail_server_whose_certificate_checks_out(base_env, certificates, monkeypatch):
    from app import create_app
    from app.broker import SEND_OTP
    from app.broker.consumer import Retry
    from workers import mail as mail_worker

    def job(to):
        return SimpleNamespace(body=json.dumps(code_job(to)).encode())

    inbox = Inbox(certificates=certificates)
    try:
        app = create_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": inbox.port, "MAIL_USE_TLS": True})
        with app.app_context():
            monkeypatch.delenv("SSL_CERT_FILE", raising=False)
            with pytest.raises(Retry, match="CERTIFICATE_VERIFY_FAILED"):  # an authority the system does not trust
                mail_worker.send(job("eve@example.com"), SEND_OTP)
            monkeypatch.setenv("SSL_CERT_FILE", certificates.ca)
            mail_worker.send(job("ada@example.com"), SEND_OTP)
        assert inbox.wait("ada@example.com")["Subject"] == "Your Parley sign-in code"
        assert not inbox.to("eve@example.com")
    finally:
        inbox.stop()
