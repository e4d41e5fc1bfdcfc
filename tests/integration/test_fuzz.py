"""No input answers 5xx: a bounded, seeded fuzz of every route, signed in
and signed out, with valid CSRF tokens so requests reach the views, odd
headers and cookies on many of them; and of a socket's hello."""

import io
import json
import random

import pytest
import websocket
from bson import ObjectId

from tests.support.live import cookie_header
from tests.support.people import HTMX, image_bytes, person

REQUESTS = 2000
SEED = 13

# Values that have broken web apps before: out-of-range numbers, odd Unicode,
# oversized fields, wrong types, ids of things that are not there.
ODD = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "99999999999999999999",
    "-99999999999999999999",
    str(2**63),
    str(2**64),
    "NaN",
    "Infinity",
    "1.5",
    "0x10",
    "null",
    "[]",
    "{}",
    "\x00",
    "a\x00b",
    "\ud800",
    "\U0010ffff",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "👩‍👩‍👧‍👦" * 50,
    "ｆｕｌｌｗｉｄｔｈ",
    "e\u0301" * 100,
    "<script>alert(1)</script>",
    "' OR '1'='1",
    '{"$gt": ""}',
    "$where",
    "../../etc/passwd",
    "..%2f..%2f",
    "%00",
    "x" * 5000,
    "x" * 70_000,
    "a@b.c",
    "someone@example.com",
    "Ω@例え.テスト",
    "0" * 24,
    "f" * 24,
    "not-an-id",
    "0-0",
    "99999999999999999999-99999999999999999999",
    "1-",
    "-",
]


# Every header and cookie the app reads, each of which reaches a comparison or a decoder.
HEADERS = [
    "X-CSRFToken",
    "HX-Request",
    "Last-Event-ID",
    "Origin",
    "Referer",
    "Sec-Fetch-Site",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "Accept-Encoding",
    "Accept-Language",
    "If-None-Match",
    "Upgrade",
    "Content-Type",
    "X-Request-ID",
]
COOKIES = ["accessToken", "refreshToken", "browser", "session"]


def wire(value):
    """`value` as a header's bytes reach the app: UTF-8 on the wire, read as Latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


def odd_value(rng, known):
    pick = rng.random()
    if pick < 0.25 and known:
        return rng.choice(known)
    if pick < 0.35:
        return str(ObjectId())
    if pick < 0.45:
        return str(rng.randint(-(2**70), 2**70))
    return rng.choice(ODD)


def requests_for(rng, pair):
    """(method, path, kwargs) covering every route, its query and its form."""
    chat = str(pair.id)
    known = [chat, str(pair.alice.user["_id"]), str(pair.bob.user["_id"]), "1", "50", "a" * 32]

    def v():
        return odd_value(rng, known)

    def form(**fields):
        return {key: value for key, value in fields.items() if rng.random() < 0.85}

    chat_id = chat if rng.random() < 0.6 else v()
    routes = [
        ("GET", "/signin", {}),
        ("POST", "/signin", {"data": form(email=v(), resend=v())}),
        ("GET", "/verify", {}),
        ("POST", "/verify", {"data": form(code=v())}),
        ("GET", "/", {}),
        ("POST", "/chats", {"data": form(user_id=v())}),
        ("GET", f"/chats/{chat_id}", {"query_string": {"older_than": v()}}),
        ("GET", f"/chats/{chat_id}/messages", {"query_string": {"older_than": v()}, "headers": dict(HTMX)}),
        ("GET", f"/chats/{chat_id}/messages", {"query_string": {"older_than": v()}}),
        ("POST", f"/chats/{chat_id}/messages", {"data": form(client_id=v(), text=v(), alt=v())}),
        (
            "POST",
            f"/chats/{chat_id}/messages",
            {
                "data": {
                    "client_id": f"{rng.getrandbits(128):032x}",
                    "text": v(),
                    "alt": v(),
                    "image": (io.BytesIO(rng.choice([b"", b"GIF89a", image_bytes(), image_bytes()[:20]])), v()[:50]),
                },
                "content_type": "multipart/form-data",
            },
        ),
        ("GET", f"/chats/{chat_id}/images/{v()}", {}),
        ("POST", f"/chats/{chat_id}/typing", {"data": form(typing=v())}),
        ("POST", f"/chats/{chat_id}/viewing", {"data": form(visible=v(), page=v())}),
        ("POST", f"/chats/{chat_id}/block", {"data": form()}),
        ("GET", f"/chats/{chat_id}/block", {}),
        ("POST", f"/chats/{chat_id}/unblock", {"data": form()}),
        ("POST", "/signout/everywhere", {"data": form()}),
        ("POST", "/signout", {"data": form()}),
        ("GET", "/profile", {}),
        ("POST", "/profile", {"data": form(name=v(), time_zone=v())}),
        ("GET", "/signin", {"query_string": {"next": v()}}),
        ("POST", "/profile/notifications", {"data": form(email=v(), hide_text=v())}),
        ("GET", "/profile/notifications/preview", {"query_string": {"v": v()}}),
        ("POST", "/profile/notifications/browsers", {"json": form(endpoint=v(), keys={"p256dh": v(), "auth": v()})}),
        ("POST", "/profile/notifications/browsers", {"data": v()}),
        ("POST", "/profile/notifications/browsers/remove", {"json": form(endpoint=v())}),
        ("GET", "/notify-worker.js", {}),
        (rng.choice(["GET", "POST"]), f"/unsubscribe/{v()}", {"data": form(**{"List-Unsubscribe": v()})}),
        ("GET", "/people", {"query_string": {"q": v()}}),
        ("GET", "/people", {"query_string": {"q": v()}, "headers": dict(HTMX)}),
        ("GET", "/events", {"query_string": {"page": v(), "chat": v(), "after": v()}, "headers": {"X-Probe": "1"}}),
        ("GET", f"/{v()}", {}),
        (rng.choice(["PUT", "DELETE", "PATCH"]), rng.choice(["/", f"/chats/{chat_id}", "/profile"]), {}),
    ]
    return rng.choice(routes)


@pytest.mark.slow
def test_two_thousand_fuzzed_requests_answer_no_5xx(pair, ns_app):
    rng = random.Random(SEED)
    signed_out = ns_app.test_client()
    signed_out.token = None
    failures = []
    for n in range(REQUESTS):
        client = rng.choice([pair.alice, pair.bob, signed_out])
        method, path, kwargs = requests_for(rng, pair)
        if path == "/events" or path.startswith("/signout"):
            # A signed-in stream never ends, and signing out would end the
            # rest of the run: only these refusals are fuzzed here.
            client = signed_out
        if method == "POST" and client.token and rng.random() < 0.95:
            kwargs.setdefault("headers", {})["X-CSRFToken"] = client.token
        if rng.random() < 0.4:
            for header in rng.sample(HEADERS, rng.randint(1, 3)):
                kwargs.setdefault("headers", {})[header] = wire(odd_value(rng, [client.token or ""])[:8000])
        if rng.random() < 0.2:  # a browser of its own with odd cookies, so the pair's sessions go on
            client = ns_app.test_client()
            for name in rng.sample(COOKIES, rng.randint(1, len(COOKIES))):
                client.set_cookie(name, wire(odd_value(rng, [pair.alice.cookies.get(name, "")])[:4000]))
        try:
            response = client.open(path, method=method, **kwargs)
        except UnicodeEncodeError:
            continue  # the test client cannot put a lone surrogate on the wire; no browser can either
        if response.status_code >= 500:
            failures.append((n, method, path, kwargs.get("query_string"), response.status_code))
        response.close()
    assert failures == [], f"{len(failures)} of {REQUESTS} answered 5xx, e.g. {failures[:5]}"


HELLOS = 200


def odd_hello(rng, chat):
    """A page's first frame: a hello with odd fields, or not a hello at all."""
    def v():
        return rng.choice([odd_value(rng, [chat, "0-0"]), None, True, 0, -1, 1e308, [], {}, ["x"], {"$gt": ""}])

    hello = {"type": "hello", "after": v(), "page": v(), "chat": v(), "visible": v(), "fresh": v()}
    for field in rng.sample(list(hello), rng.randint(0, 3)):
        del hello[field]
    pick = rng.random()
    if pick < 0.1:
        return rng.choice(["", "null", "[]", "hello", "{", '"hello"', "1e999", "\x00"])
    if pick < 0.15:
        return {"type": v(), **hello}
    return hello


def test_fuzzed_socket_hellos_never_fail_the_server(pair, ns_app, namespace, processes):
    """Every hello is answered as a page's or refused with 1008, never with
    1011 (a server error); and the process logs no unhandled error."""
    processes.env.update(namespace)
    web = processes.web()
    rng = random.Random(SEED)
    url = web.url.replace("http", "ws", 1) + "/ws"
    people = [pair.alice, pair.bob] + [person(ns_app, f"page{n}") for n in range(10)]  # 20 opens at once each
    codes, dropped = {}, []
    for n in range(HELLOS):
        someone = people[n % len(people)]
        ws = websocket.create_connection(url, origin=web.url, cookie=cookie_header(someone.cookies), timeout=10)
        hello = odd_hello(rng, str(pair.id))
        ws.send(hello if isinstance(hello, str) else json.dumps(hello))
        ws.send(json.dumps(odd_hello(rng, str(pair.id))))  # then anything at all, as a page's later messages
        try:
            opcode, frame = ws.recv_data_frame(True)
            while opcode != websocket.ABNF.OPCODE_CLOSE and not json.loads(frame.data).get("attached"):
                opcode, frame = ws.recv_data_frame(True)
            code = int.from_bytes(frame.data[:2], "big") if opcode == websocket.ABNF.OPCODE_CLOSE else "attached"
        except (websocket.WebSocketException, OSError):
            code = 1006
            dropped.append(hello)
        codes[code] = codes.get(code, 0) + 1
        ws.close()
    assert set(codes) <= {"attached", 1008}, (codes, dropped[:5])
    assert "unhandled error" not in web.output() and "Traceback" not in web.output(), web.output()[-3000:]
