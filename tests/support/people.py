"""People for tests: signed-in test clients, two people with a chat, and
what a page shows (its CSRF token, its client_id, its errors)."""

import html as html_module
import io
import re
import uuid
from types import SimpleNamespace

from bson import ObjectId

HTMX = {"HX-Request": "true"}
# What a browser says of a click on one of our own pages: only such a visit marks messages seen.
FROM_HERE = {"Sec-Fetch-Site": "same-origin"}


def csrf_token(client, path="/signin"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def session_cookies(app, email):
    """Sign `email` in the way the verify page does; returns the user and its cookies."""
    from flask import make_response

    from app.auth import sessions
    from app.data import users

    with app.test_request_context():
        user = users.find_or_create(email)
        response = make_response("")
        sessions.start(response, user["_id"])
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, value = header.split(";", 1)[0].split("=", 1)
        cookies[name] = value
    return user, cookies


def signed_in(app, client, email):
    """Sign `client` in as `email`; returns (user, csrf token)."""
    from flask_jwt_extended import decode_token

    user, cookies = session_cookies(app, email)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    with app.app_context():
        # The token every page of this session carries (sessions.csrf_token), without rendering one.
        token = decode_token(cookies[app.config["JWT_ACCESS_COOKIE_NAME"]])["csrf"]
    return user, token


def unique_email(name="someone"):
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def errors_in(html):
    """The error messages a page shows (field errors and form errors), names in them as text."""
    where = r'(?:class="(?:field-error|form-error)"|hx-target="#composer-error")[^>]*>(?:<p[^>]*>)?'
    found = re.findall(where + r"((?:[^<]|</?bdi>)+)", html)
    messages = (html_module.unescape(re.sub(r"</?bdi>", "", message)).strip() for message in found)
    return [message for message in messages if message]


def client_id(html):
    return re.search(r'name="client_id" value="([0-9a-f]{32})"', html).group(1)


def person(app, name):
    """A test client signed in as a new person: client.user, client.token (CSRF), client.cookies."""
    client = app.test_client()
    client.user, client.token = signed_in(app, client, unique_email(name))
    client.cookies = {cookie.key: cookie.value for cookie in client._cookies.values()}
    return client


def two_people_with_a_chat(app):
    """Alice and Bob, each on a signed-in client, with a chat between them."""
    alice, bob = person(app, "alice"), person(app, "bob")
    response = alice.post("/chats", data={"user_id": str(bob.user["_id"]), "csrf_token": alice.token})
    alice.chat_url = bob.chat_url = response.headers["Location"]
    return SimpleNamespace(alice=alice, bob=bob, id=ObjectId(alice.chat_url.rsplit("/", 1)[1]), url=alice.chat_url)


def send(client, text="", headers=None, **fields):
    """Post a message from `client`'s chat page, as its form does (multipart)."""
    page = client.get(client.chat_url).get_data(as_text=True)
    data = {"client_id": client_id(page), "text": text, "csrf_token": client.token, **fields}
    return client.post(
        client.chat_url + "/messages", data=data, headers=headers or {}, content_type="multipart/form-data"
    )


def say(client, text):
    """Send a message with htmx, as the page's script does; it must be accepted."""
    response = send(client, text, headers=HTMX)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def image_bytes(kind="PNG", size=(4, 3)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()
