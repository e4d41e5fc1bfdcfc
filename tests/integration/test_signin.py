"""Sign-in through the HTTP interface, on real Redis, RabbitMQ and SecantusDB."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import jwt as pyjwt
import pytest

from app import outages
from app.auth import browser, codes, session_store, throttle
from app.connections import redis_client
from app.data import sessions, users
from app.realtime import push
from tests.support.people import HTMX, csrf_token, errors_in, session_cookies, signed_in, unique_email
from tests.support.queues import code_in, queued_jobs
from tests.support.services import wait_for


def browser_at(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def request_code(client, email, token, **extra):
    return client.post("/signin", data={"email": email, "csrf_token": token, **extra})


def test_sign_in_with_an_emailed_code(ns_app, ns_client):
    email = unique_email("ann")
    token = csrf_token(ns_client)
    response = request_code(ns_client, email.upper(), token)
    assert response.status_code == 303 and response.headers["Location"] == "/verify"

    [job] = queued_jobs(ns_app, "send-otp")
    assert job["to"] == email  # lower-cased
    assert job["template"] == "signin_code" and set(job) == {"to", "template", "values"}
    page = ns_client.get("/verify").get_data(as_text=True)
    assert f"We sent a code to {email}" in page and 'autocomplete="one-time-code"' in page

    response = ns_client.post("/verify", data={"code": code_in(job), "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/welcome"  # the first time only
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    for name, max_age in (("accessToken", 900), ("refreshToken", 15 * 24 * 3600)):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert f"Max-Age={max_age}" in cookies[name]
    welcome = ns_client.get("/welcome").get_data(as_text=True)
    assert "Choose your name" in welcome and f'value="{email.split("@")[0]}"' in welcome
    skip = ns_client.post("/welcome", data={"skip": "1", "csrf_token": csrf_token(ns_client, "/welcome")})
    assert skip.status_code == 303 and skip.headers["Location"] == "/"
    home = ns_client.get("/").get_data(as_text=True)
    assert "Welcome, <bdi>" + email.split("@")[0] in home
    assert 'aria-label="Chats"' in home and "New chat" in home and "Sign out" in home


def test_htmx_gets_errors_in_place_and_a_redirect_header_on_success(ns_app, ns_client):
    token = csrf_token(ns_client)
    response = ns_client.post("/signin", data={"email": "nope", "csrf_token": token}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<section id="signin-panel"')  # the fragment, not a page
    assert 'aria-invalid="true"' in html and "autofocus" in html
    response = ns_client.post("/signin", data={"email": unique_email(), "csrf_token": token}, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/verify"


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Enter your email address."),
        ("not-an-email", "Enter an email address like name@example.com."),
        ("a@b", "Enter an email address like name@example.com."),
        ("two@@example.com", "Enter an email address like name@example.com."),
        (
            "üñí@example.com",
            "Parley can't send a code to an address with accents or other scripts before the @ yet. "
            "Use another address.",
        ),
    ],
)
def test_malformed_emails_get_a_clear_message_and_keep_the_input(ns_app, ns_client, email, message):
    token = csrf_token(ns_client)
    response = request_code(ns_client, email, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(html) == [message]
    assert f'value="{email}"' in html
    assert queued_jobs(ns_app, "send-otp") == []


def test_an_address_with_an_international_domain_is_sent_in_its_ascii_form(ns_app, ns_client):
    token = csrf_token(ns_client)
    assert request_code(ns_client, "Ann@Bücher.example", token).status_code == 303
    [job] = queued_jobs(ns_app, "send-otp")
    assert job["to"] == "ann@xn--bcher-kva.example"


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "Enter the 6-digit code from your email."),
        ("12ab56", "The code is 6 digits, numbers only, like 123456."),
        ("12345", "The code is 6 digits, numbers only, like 123456."),
    ],
)
def test_malformed_codes_get_a_clear_message(ns_app, ns_client, code, message):
    token = csrf_token(ns_client)
    request_code(ns_client, unique_email(), token)
    response = ns_client.post("/verify", data={"code": code, "csrf_token": token})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == [message]


def test_a_pasted_code_with_spaces_works(ns_app, ns_client):
    token = csrf_token(ns_client)
    request_code(ns_client, unique_email(), token)
    code = code_in(queued_jobs(ns_app, "send-otp")[0])
    response = ns_client.post("/verify", data={"code": f" {code[:3]} {code[3:]} ", "csrf_token": token})
    assert response.status_code == 303


def test_wrong_codes_count_down_then_lock(ns_app, ns_client):
    token = csrf_token(ns_client)
    request_code(ns_client, unique_email(), token)
    code = code_in(queued_jobs(ns_app, "send-otp")[0])
    wrong = "000000" if code != "000000" else "111111"
    seen = []
    for _ in range(5):
        response = ns_client.post("/verify", data={"code": wrong, "csrf_token": token})
        assert response.status_code == 422
        seen += errors_in(response.get_data(as_text=True))
    assert seen == [
        "That code is not right. You have 4 tries left.",
        "That code is not right. You have 3 tries left.",
        "That code is not right. You have 2 tries left.",
        "That code is not right. You have 1 try left.",
        "Too many wrong tries. Ask for a new code with Resend code.",
    ]
    response = ns_client.post("/verify", data={"code": code, "csrf_token": token})
    assert errors_in(response.get_data(as_text=True)) == ["Too many wrong tries. Ask for a new code with Resend code."]


def test_an_expired_code(ns_app, ns_client):
    email = unique_email()
    token = csrf_token(ns_client)
    request_code(ns_client, email, token)
    code = code_in(queued_jobs(ns_app, "send-otp")[0])
    with ns_app.app_context():
        # What its five-minute TTL does. SCAN, not KEYS: a Redis Cluster scans every node.
        redis_client().delete(*redis_client().scan_iter(codes.code_key(email, "*")))
    response = ns_client.post("/verify", data={"code": code, "csrf_token": token})
    assert errors_in(response.get_data(as_text=True)) == ["That code has expired. Ask for a new one with Resend code."]


def test_a_reused_code(ns_app):
    """The same pending sign-in in two places: the second use of the code is refused."""
    first = ns_app.test_client()
    token = csrf_token(first)
    request_code(first, unique_email(), token)
    code = code_in(queued_jobs(ns_app, "send-otp")[0])
    second = ns_app.test_client()
    second.set_cookie("session", first.get_cookie("session").value)
    assert first.post("/verify", data={"code": code, "csrf_token": token}).status_code == 303
    response = second.post("/verify", data={"code": code, "csrf_token": token})
    assert errors_in(response.get_data(as_text=True)) == [
        "That code has already been used. Ask for a new one with Resend code."
    ]


def test_resend_inside_the_cooldown_says_how_long_to_wait(ns_app, ns_client, clock):
    email = unique_email()
    token = csrf_token(ns_client)
    request_code(ns_client, email, token)
    clock.advance(seconds=4)
    response = request_code(ns_client, email, token, resend="1")
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 'id="verify-panel"' in html  # shown on the verify page, where Resend code is
    assert errors_in(html) == ["We just sent you a code. You can ask for another in 26 seconds."]
    assert len(queued_jobs(ns_app, "send-otp")) == 1


def test_resend_after_the_cooldown_sends_a_new_code(ns_app, ns_client, clock):
    email = unique_email()
    token = csrf_token(ns_client)
    request_code(ns_client, email, token)
    clock.advance(seconds=30)
    response = request_code(ns_client, email, token, resend="1")
    assert response.status_code == 303
    assert "We sent a new code to" in ns_client.get("/verify").get_data(as_text=True)
    first, second = queued_jobs(ns_app, "send-otp")
    assert ns_client.post("/verify", data={"code": code_in(first), "csrf_token": token}).status_code == 422
    assert ns_client.post("/verify", data={"code": code_in(second), "csrf_token": token}).status_code == 303


def test_limits_per_address_and_browser_and_per_ip(ns_app, ns_client, clock):
    ns_app.config.update(SIGNIN_LIMIT_PER_EMAIL=(3, 3600), SIGNIN_LIMIT_PER_IP=(5, 3600))
    email = unique_email()
    token = csrf_token(ns_client)
    for _ in range(3):
        assert request_code(ns_client, email, token).status_code == 303
        clock.advance(seconds=30)
    response = request_code(ns_client, email, token)
    assert response.status_code == 429
    assert errors_in(response.get_data(as_text=True)) == [
        "Too many codes were sent to this address. Try again in 59 minutes."
    ]
    for _ in range(2):
        assert request_code(ns_client, unique_email(), token).status_code == 303
    response = request_code(ns_client, unique_email(), token)
    assert response.status_code == 429
    assert errors_in(response.get_data(as_text=True)) == [
        "Too many codes were asked for from your network. Try again in 59 minutes."
    ]
    clock.advance(minutes=59)
    assert request_code(ns_client, email, token).status_code == 303  # a moving window


@pytest.mark.parametrize("trusted_proxies", [None, 1], ids=["reached-directly", "behind-a-named-proxy"])
def test_forwarded_for_counts_only_behind_a_proxy_the_settings_name(namespace, trusted_proxies):
    """Issue 30, finding 10: production trusted one X-Forwarded-For hop, so a
    client reaching the app directly chose its address (40 of 40 codes asked for)."""
    from app import create_app

    overrides = {name: namespace[name] for name in ("KEY_PREFIX", "QUEUE_PREFIX")}
    overrides |= {"APP_ENV": "production", "SIGNIN_LIMIT_PER_IP": (2, 3600)}
    if trusted_proxies:
        overrides["TRUSTED_PROXIES"] = trusted_proxies
    client = create_app(overrides).test_client()
    token = csrf_token(client)
    statuses = [
        client.post(
            "/signin",
            data={"email": unique_email(), "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(3)
    ]
    assert statuses == ([303] * 3 if trusted_proxies else [303, 303, 429])


def test_someone_asking_for_codes_to_your_address_cannot_lock_you_out(ns_app, clock):
    """Finding 1: five requests for the victim's address, 31 s apart, used to
    refuse the victim's own for an hour."""
    victim = unique_email("victim")
    attacker = ns_app.test_client()
    token = csrf_token(attacker)
    statuses = []
    for _ in range(6):
        statuses.append(request_code(attacker, victim, token).status_code)
        clock.advance(seconds=31)
    assert statuses == [303] * 5 + [429]  # the attacker's browser is stopped...
    owner = browser_at(ns_app, "198.51.100.7")
    assert request_code(owner, victim, csrf_token(owner)).status_code == 303  # ...its owner is not


def fresh_browser_asks(app, email, ip):
    """A browser that keeps no cookie: the sign-in page, then its form, from `ip`."""
    client = browser_at(app, ip)
    return request_code(client, email, csrf_token(client)).status_code


@pytest.mark.slow  # a minute of polling, 2,400 requests
def test_a_cookieless_attacker_on_two_networks_cannot_keep_the_owner_from_a_code(ns_app, clock):
    """Issue 30, finding 4: a fresh browser for every request (20 in 0.3 s,
    then one every 0.05 s) from two addresses took every code the address
    had, and its owner got none in 250 s."""
    victim = unique_email("victim")
    attackers = ("203.0.113.1", "203.0.113.2")
    for n in range(20):
        fresh_browser_asks(ns_app, victim, attackers[n % 2])
        clock.advance(seconds=0.015)
    owner = browser_at(ns_app, "198.51.100.7")
    token = csrf_token(owner)
    got_code_at = None
    for tick in range(1, 1201):  # a minute of polling, every 0.05 s
        clock.advance(seconds=0.05)
        fresh_browser_asks(ns_app, victim, attackers[tick % 2])
        if got_code_at is None and tick % 200 == 0:  # the owner asks, then again every 10 s
            if request_code(owner, victim, token).status_code == 303:
                got_code_at = tick * 0.05
    assert got_code_at is not None and got_code_at <= 60
    mails = [job for job in queued_jobs(ns_app, "send-otp") if job["to"] == victim]
    per_network = throttle.PER_NETWORK[0]
    assert len(mails) == 2 * per_network + 1  # the inbox got what two networks may send, and the owner's


def test_a_browser_that_signed_in_before_gets_its_code_whatever_strangers_ask(ns_app, clock):
    """The owner's own browser, even on the attacker's network with the address's every shared code taken."""
    ns_app.config.update(SIGNIN_LIMIT_PER_IP=(5, 3600))
    victim = unique_email("victim")
    owner = browser_at(ns_app, "203.0.113.1")
    token = csrf_token(owner)
    assert request_code(owner, victim, token).status_code == 303
    code = code_in(queued_jobs(ns_app, "send-otp")[0])
    assert owner.post("/verify", data={"code": code, "csrf_token": token}).status_code == 303
    for n in range(100):  # many networks: every shared code of the hour is taken, then slowly, every slot
        fresh_browser_asks(ns_app, victim, f"203.0.113.{n % 50 + 1}")
        clock.advance(seconds=1)
    assert fresh_browser_asks(ns_app, victim, "198.51.100.7") == 429
    same_browser = browser_at(ns_app, "203.0.113.1")
    same_browser.set_cookie(browser.COOKIE, owner.get_cookie(browser.COOKIE).value)
    assert request_code(same_browser, victim, csrf_token(same_browser)).status_code == 303
    mails = [job for job in queued_jobs(ns_app, "send-otp") if job["to"] == victim]
    assert len(mails) <= 20 + 100 // (throttle.SLOW_EVERY) + 1  # the cap, a slow code a while, the owner's


def test_many_browsers_at_one_address_only_slow_it_down(ns_app, clock):
    ns_app.config.update(SIGNIN_LIMIT_PER_EMAIL_ALL=(4, 3600))
    victim = unique_email("victim")
    for _ in range(4):  # a fresh browser each time, as an attacker may have
        stranger = ns_app.test_client()
        assert request_code(stranger, victim, csrf_token(stranger)).status_code == 303
    owner = ns_app.test_client()
    token = csrf_token(owner)
    response = request_code(owner, victim, token)
    assert response.status_code == 429
    assert errors_in(response.get_data(as_text=True)) == [
        "Many codes were asked for this address just now. You can ask for another in 2 minutes."
    ]
    clock.advance(seconds=throttle.SLOW_EVERY)
    assert request_code(owner, victim, token).status_code == 303  # minutes, not an hour


def test_wrong_tries_from_another_session_leave_your_code_alone(ns_app, clock):
    """Finding 1: holding a session that names the victim, five wrong tries
    used to lock the victim's code."""
    victim = unique_email("victim")
    attacker = ns_app.test_client()
    attacker_token = csrf_token(attacker)
    assert request_code(attacker, victim, attacker_token).status_code == 303
    owner = ns_app.test_client()
    owner_token = csrf_token(owner)
    assert request_code(owner, victim, owner_token).status_code == 303
    attackers_code, owners_code = (code_in(job) for job in queued_jobs(ns_app, "send-otp"))
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (attackers_code, owners_code))
    for _ in range(5):
        attacker.post("/verify", data={"code": wrong, "csrf_token": attacker_token})
    assert attacker.post("/verify", data={"code": owners_code, "csrf_token": attacker_token}).status_code == 422
    assert owner.post("/verify", data={"code": owners_code, "csrf_token": owner_token}).status_code == 303


def test_verify_is_limited_per_browser_and_per_ip(ns_app, clock, monkeypatch):
    token = {}
    browsers = []
    for _ in range(3):
        client = ns_app.test_client()
        token[client] = csrf_token(client)
        request_code(client, unique_email(), token[client])
        browsers.append(client)
    monkeypatch.setattr(throttle, "VERIFY_PER_BROWSER", (4, 300))
    monkeypatch.setattr(throttle, "VERIFY_PER_IP", (6, 300))
    first, second, third = browsers
    tries = [first.post("/verify", data={"code": "000000", "csrf_token": token[first]}) for _ in range(5)]
    assert [r.status_code for r in tries] == [422] * 4 + [429]
    assert errors_in(tries[-1].get_data(as_text=True)) == ["Too many tries. Wait 5 minutes, then try again."]
    tries = [second.post("/verify", data={"code": "000000", "csrf_token": token[second]}) for _ in range(3)]
    assert [r.status_code for r in tries] == [422, 422, 429]  # the network's 6 are used up
    clock.advance(minutes=5)
    assert third.post("/verify", data={"code": "000000", "csrf_token": token[third]}).status_code == 422


def test_parallel_requests_cannot_pass_a_limit_together(ns_app):
    """Finding 2: 25 parallel requests for one address sent 3 codes (25 here),
    60 from one IP address 57 against a limit of 30."""
    email = unique_email("parallel")
    first = ns_app.test_client()
    token = csrf_token(first)
    same_browser = [ns_app.test_client() for _ in range(25)]
    for client in same_browser:  # one browser, its session copied into every tab
        for name in ("session", browser.COOKIE):
            client.set_cookie(name, first.get_cookie(name).value)
    with ThreadPoolExecutor(25) as pool:
        statuses = list(pool.map(lambda client: request_code(client, email, token).status_code, same_browser))
    assert sorted(statuses) == [303] + [429] * 24
    assert len(queued_jobs(ns_app, "send-otp")) == 1

    ns_app.config["SIGNIN_LIMIT_PER_IP"] = (30, 3600)
    ns_app.config["SIGNIN_LIMIT_PER_EMAIL_ALL"] = (100, 3600)
    clients = [ns_app.test_client() for _ in range(60)]
    tokens = {client: csrf_token(client) for client in clients}
    with ThreadPoolExecutor(60) as pool:
        statuses = list(
            pool.map(lambda client: request_code(client, unique_email(), tokens[client]).status_code, clients)
        )
    assert statuses.count(303) == 29 and statuses.count(429) == 31  # 30 an hour, one of them used above
    assert len(queued_jobs(ns_app, "send-otp")) == 29


def test_the_keys_each_script_touches_share_a_hash_slot(ns_app, ns_client, monkeypatch):
    """So that Parley can run on a Redis Cluster."""
    from redis.crc import key_slot

    groups, take = [], throttle.take
    monkeypatch.setattr(throttle, "take", lambda *given: groups.extend(given) or take(*given))
    token = csrf_token(ns_client)
    email = unique_email()
    request_code(ns_client, email, token)
    ns_client.post("/verify", data={"code": "000000", "csrf_token": token})
    assert len(groups) == 4
    for group in groups:
        assert len({key_slot(limit.key.encode()) for limit in group}) == 1
    with ns_app.app_context():
        assert key_slot(codes.code_key(email, "a").encode()) == key_slot(codes.used_key(email, "a").encode())


def test_typos_do_not_count_against_the_limits(ns_app, ns_client):
    ns_app.config["SIGNIN_LIMIT_PER_IP"] = (2, 3600)
    token = csrf_token(ns_client)
    for _ in range(5):
        assert request_code(ns_client, "typo@", token).status_code == 422
    assert request_code(ns_client, unique_email(), token).status_code == 303


def test_when_the_broker_cannot_take_the_code_nothing_is_half_done(ns_app, ns_client):
    from app.broker.publisher import Publisher

    email = unique_email()
    ns_app.extensions["publisher"] = Publisher("amqp://guest:guest@127.0.0.1:1/%2F", "classic", confirm_timeout=3)
    token = csrf_token(ns_client)
    response = request_code(ns_client, email, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert errors_in(html) == [outages.MESSAGE]
    assert f'value="{email}"' in html  # the input is kept
    with ns_app.app_context():
        assert not list(redis_client().scan_iter(codes.code_key(email, "*")))
    ns_app.extensions["publisher"] = Publisher(ns_app.config["RABBITMQ_URL"], ns_app.config["QUEUE_TYPE"])
    assert request_code(ns_client, email, token).status_code == 303  # no cooldown was used up


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_missing_or_wrong_csrf_token(ns_app, ns_client, token):
    csrf_token(ns_client)
    data = {"email": unique_email()} | ({"csrf_token": token} if token else {})
    response = ns_client.post("/signin", data=data)
    assert response.status_code == 400
    assert "This page has expired. Reload it and try again." in response.get_data(as_text=True)
    htmx = ns_client.post("/signin", data=data, headers=HTMX)
    assert htmx.status_code == 400 and htmx.headers["HX-Retarget"] == "#alerts"
    assert queued_jobs(ns_app, "send-otp") == []


MALFORMED_TOKENS = ["é" * 32, "\u2603", "x" * 10_000, "\x00", "\udcff"]


@pytest.mark.parametrize("token", MALFORMED_TOKENS, ids=["accents", "snowman", "long", "nul", "surrogate"])
@pytest.mark.parametrize("signed", [False, True], ids=["signed-out", "signed-in"])
def test_a_malformed_csrf_token_is_refused_like_a_wrong_one(ns_app, token, signed):
    """Issue 30, finding 1: a non-ASCII token made hmac.compare_digest raise, a 500 on every signed-in form."""
    client = ns_app.test_client()
    path = "/profile" if signed else "/signin"
    if signed:
        signed_in(ns_app, client, unique_email())
    else:
        csrf_token(client)
    data = {"name": "Ada", "email": unique_email()}
    try:
        plain = client.post(path, data={**data, "csrf_token": token})
    except UnicodeEncodeError:
        plain = None  # a lone surrogate cannot be put in a form; it can be in a header
    if plain is not None:
        assert plain.status_code == 400
    header = token.encode("utf-8", "surrogateescape").decode("latin-1")  # a header's bytes, as WSGI reads them
    htmx = client.post(path, data=data, headers={**HTMX, "X-CSRFToken": header})
    assert htmx.status_code == 400 and htmx.headers["HX-Retarget"] == "#alerts"


def test_csrf_header_is_accepted_for_htmx(ns_app, ns_client):
    token = csrf_token(ns_client)
    response = ns_client.post("/signin", data={"email": unique_email()}, headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 204


def test_a_tampered_token_signs_nobody_in(app, client):
    user, cookies = session_cookies(app, unique_email())
    header, payload, signature = cookies["accessToken"].split(".")
    client.set_cookie("accessToken", f"{header}.{payload}.{signature[:-4]}AAAA")
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin")
    forged = pyjwt.encode(
        {"sub": str(user["_id"]), "type": "access", "exp": time.time() + 600},
        "a-guessed-secret-of-thirty-two-bytes",
        "HS256",
    )
    client.set_cookie("accessToken", forged)
    assert client.get("/profile").status_code == 303


def signed_in_client(app, cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def only(cookies, name):
    return {name: cookies[name]}


def renewed_cookies(response):
    return {
        header.split("=", 1)[0]: header.split(";")[0].split("=", 1)[1]
        for header in response.headers.getlist("Set-Cookie")
    }


def test_server_renews_an_expiring_session_and_rotates_the_refresh_token(app, client):
    from flask_jwt_extended import create_access_token, decode_token

    user, cookies = session_cookies(app, unique_email())
    with app.app_context():
        old = decode_token(cookies["refreshToken"])
        soon = create_access_token(
            identity=str(user["_id"]), expires_delta=timedelta(seconds=30), additional_claims={"sid": old["sid"]}
        )
    client.set_cookie("accessToken", soon)
    client.set_cookie("refreshToken", cookies["refreshToken"])
    response = client.get("/profile")
    assert response.status_code == 200
    renewed = renewed_cookies(response)
    assert {"accessToken", "refreshToken"} <= renewed.keys()
    with app.app_context():
        new = decode_token(renewed["refreshToken"])
        assert new["sid"] == old["sid"] == decode_token(renewed["accessToken"])["sid"]
        kept = sessions.get(new["sid"])
        assert kept["refresh"] == new["jti"] and kept["previous"] == old["jti"]


def test_an_expired_access_token_is_renewed_while_the_refresh_token_lives(app, client):
    user, cookies = session_cookies(app, unique_email())
    client.set_cookie("refreshToken", cookies["refreshToken"])  # no access token at all
    response = client.get("/profile")
    assert response.status_code == 200
    assert any(h.startswith("accessToken=") for h in response.headers.getlist("Set-Cookie"))


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(app, clock):
    """Finding 3: a replayed old refresh token was refused, but the token
    rotated from it kept working."""
    user, cookies = session_cookies(app, unique_email())
    owner = signed_in_client(app, only(cookies, "refreshToken"))
    response = owner.get("/profile")  # rotates it
    assert response.status_code == 200
    rotated = renewed_cookies(response)
    clock.advance(seconds=session_store.ROTATION_GRACE + 1)
    thief = signed_in_client(app, only(cookies, "refreshToken"))
    response = thief.get("/profile")
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin")
    assert any(h.startswith("refreshToken=;") for h in response.headers.getlist("Set-Cookie"))
    for name in ("refreshToken", "accessToken"):  # all of the session is over, at once
        assert signed_in_client(app, only(rotated, name)).get("/profile").status_code == 303


def test_parallel_requests_with_the_same_refresh_token_all_stay_signed_in(app):
    user, cookies = session_cookies(app, unique_email())
    for _ in range(3):
        tab = signed_in_client(app, only(cookies, "refreshToken") | only(cookies, browser.COOKIE))
        assert tab.get("/profile").status_code == 200


def test_a_refresh_token_replayed_from_another_browser_within_the_grace_ends_the_session(app, clock):
    """Issue 30, finding 9: within 20 s of a rotation, anyone holding the old
    refresh token got a working access token."""
    user, cookies = session_cookies(app, unique_email())
    owner = signed_in_client(app, only(cookies, "refreshToken") | only(cookies, browser.COOKIE))
    response = owner.get("/profile")  # rotates it
    assert response.status_code == 200
    rotated = renewed_cookies(response)
    clock.advance(seconds=1)
    thief = signed_in_client(app, {})
    thief.get("/signin")  # a browser cookie of its own
    thief.set_cookie("refreshToken", cookies["refreshToken"])
    response = thief.get("/profile")
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin")
    assert not renewed_cookies(response).get("accessToken")
    for name in ("refreshToken", "accessToken"):  # the session is over
        assert signed_in_client(app, only(rotated, name)).get("/profile").status_code == 303


def test_sign_out_ends_the_session_at_once_and_clears_the_cookies(app, client):
    """Finding 3: after "Sign out" the old access cookie worked for up to 15 minutes."""
    user, cookies = session_cookies(app, unique_email())
    client = signed_in_client(app, cookies)
    elsewhere = signed_in_client(app, session_cookies(app, user["email"])[1])  # another sign-in, as on a phone
    assert client.get("/profile").status_code == 200  # now this process holds the session as alive
    response = client.post("/signout", data={"csrf_token": csrf_token(client, "/profile")})
    assert response.status_code == 303 and response.headers["Location"].startswith("/signin")
    cleared = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(("accessToken=;", "refreshToken=;"))]
    assert len(cleared) == 2
    assert "You have signed out." in client.get("/signin").get_data(as_text=True)
    for name in ("accessToken", "refreshToken"):
        kept = signed_in_client(app, only(cookies, name))
        response = kept.get("/profile")
        assert response.status_code == 303 and response.headers["Location"].startswith("/signin")
    assert elsewhere.get("/profile").status_code == 200  # only that session ended


def test_sign_out_of_all_devices_ends_every_session(app):
    user, laptop = session_cookies(app, unique_email())
    _, phone = session_cookies(app, user["email"])
    laptop_client, phone_client = signed_in_client(app, laptop), signed_in_client(app, phone)
    assert phone_client.get("/").status_code == 200
    profile = laptop_client.get("/profile").get_data(as_text=True)
    assert 'action="/signout/everywhere"' in profile and ">Sign out of all devices</button>" in profile
    response = laptop_client.post("/signout/everywhere", data={"csrf_token": csrf_token(laptop_client, "/profile")})
    assert response.status_code == 303
    assert "You have signed out on all your devices." in laptop_client.get("/signin").get_data(as_text=True)
    for cookies in (laptop, phone):
        for name in cookies:
            assert signed_in_client(app, only(cookies, name)).get("/").status_code == 303


def test_a_redis_that_lost_its_data_signs_nobody_out_and_revives_no_ended_session(app):
    _, kept = session_cookies(app, unique_email())
    _, ended = session_cookies(app, unique_email())
    leaving = signed_in_client(app, ended)
    leaving.post("/signout", data={"csrf_token": csrf_token(leaving, "/profile")})
    with app.app_context():  # Redis restarted empty, as after a crash without persistence
        session_store._seen_alive.clear()
        for found in list(redis_client().scan_iter(app.config["KEY_PREFIX"] + "*")):
            redis_client().delete(found)  # one by one: a cluster keeps them on different nodes
    assert signed_in_client(app, only(kept, "accessToken")).get("/profile").status_code == 200
    assert signed_in_client(app, only(kept, "refreshToken")).get("/profile").status_code == 200
    for name in ("accessToken", "refreshToken"):
        assert signed_in_client(app, only(ended, name)).get("/profile").status_code == 303


def test_signing_out_tells_the_sessions_open_pages_to_close(app):
    from flask_jwt_extended import decode_token

    user, cookies = session_cookies(app, unique_email())
    with app.app_context():
        listener = redis_client().pubsub(ignore_subscribe_messages=True)
        listener.subscribe(push.channel(user["_id"]))
        session_id = decode_token(cookies["accessToken"])["sid"]
    client = signed_in_client(app, cookies)
    client.post("/signout", data={"csrf_token": csrf_token(client, "/profile")})
    order = wait_for(lambda: listener.get_message(timeout=0.1), 5, what="the order to close")
    listener.close()
    assert order["data"] == f"! close 4401 s:{session_id}"  # every web process's hub closes its pages


def test_profile_changes_the_name(app, client):

    user, token = signed_in(app, client, unique_email("carol"))
    response = client.post("/profile", data={"name": "  Carol Danvers ", "csrf_token": token}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'value="Carol Danvers"' in html
    assert '<div id="profile-status" hx-swap-oob="innerHTML">Your name is saved.</div>' in html
    assert "Welcome, <bdi>Carol Danvers" in client.get("/").get_data(as_text=True)
    too_long = client.post("/profile", data={"name": "x" * 51, "csrf_token": token})
    assert too_long.status_code == 422
    assert errors_in(too_long.get_data(as_text=True)) == ["Your name can be at most 50 characters."]
    empty = client.post("/profile", data={"name": "   ", "csrf_token": token})
    assert errors_in(empty.get_data(as_text=True)) == ["Enter the name people will see."]


def test_signed_out_visitors_are_sent_to_sign_in_and_back(client):
    for path, back in (("/", None), ("/profile", "/profile"), ("/people?q=a", "/people?q=a")):
        response = client.get(path)
        assert response.status_code == 303 and sent_to_sign_in(response) == back
    htmx = client.get("/profile", headers=HTMX)
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == "/signin"


def sent_to_sign_in(response):
    """The `next` of a redirect to the sign-in page (None if it has none)."""
    location = urlsplit(response.headers["Location"])
    assert location.path == "/signin"
    return parse_qs(location.query).get("next", [None])[0]


@pytest.mark.parametrize("first_time", [True, False])
def test_sign_in_lands_where_the_link_pointed(ns_app, ns_client, first_time):
    """A link to a chat (in a missed-message email) opened without a session:
    sign in, then the chat, at its first unread message."""
    email = unique_email("lin")
    if not first_time:
        with ns_app.app_context():
            users.keep_name(users.find_or_create(email)["_id"])
    target = "/chats/0123456789abcdef01234567/new"
    signin = ns_client.get(target).headers["Location"]
    assert sent_to_sign_in(ns_client.get(target)) == target
    token = csrf_token(ns_client, signin)
    request_code(ns_client, email, token)
    [job] = queued_jobs(ns_app, "send-otp")
    landed = ns_client.post("/verify", data={"code": code_in(job), "csrf_token": token}).headers["Location"]
    if first_time:  # their name first, then on
        assert urlsplit(landed).path == "/welcome" and parse_qs(urlsplit(landed).query)["next"] == [target]
        token = csrf_token(ns_client, landed)
        landed = ns_client.post(landed, data={"skip": "1", "csrf_token": token}).headers["Location"]
    assert landed == target


@pytest.mark.parametrize(
    "next_",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/a\r\nSet-Cookie:x=1"],
)
def test_sign_in_never_sends_anyone_to_another_site(ns_app, ns_client, next_):
    email = unique_email("lin")
    with ns_app.app_context():
        users.keep_name(users.find_or_create(email)["_id"])
    token = csrf_token(ns_client, "/signin?next=" + quote(next_, safe=""))
    request_code(ns_client, email, token)
    [job] = queued_jobs(ns_app, "send-otp")
    assert ns_client.post("/verify", data={"code": code_in(job), "csrf_token": token}).headers["Location"] == "/"


def test_the_first_sign_in_asks_for_a_name_once(ns_app, ns_client):
    email = unique_email("noor")
    token = csrf_token(ns_client)
    request_code(ns_client, email, token)
    [job] = queued_jobs(ns_app, "send-otp")
    assert ns_client.post("/verify", data={"code": code_in(job), "csrf_token": token}).headers["Location"] == "/welcome"
    token = csrf_token(ns_client, "/welcome")
    empty = ns_client.post("/welcome", data={"name": " ", "csrf_token": token})
    assert empty.status_code == 422 and "Enter the name people will see." in empty.get_data(as_text=True)
    chosen = ns_client.post("/welcome", data={"name": "Noor Haddad", "continue": "1", "csrf_token": token})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/"
    assert "Welcome, <bdi>Noor Haddad" in ns_client.get("/").get_data(as_text=True)
    with ns_app.app_context():
        assert users.find_or_create(email)["name_chosen"] is True  # the next sign-in goes straight home
