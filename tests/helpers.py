"""Shortcuts for tests: sign a test client in, read a page's CSRF token."""

import re
import uuid


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
    user, cookies = session_cookies(app, email)
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return user, csrf_token(client, "/profile")


def unique_email(name="someone"):
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def queued_jobs(app, queue):
    """Take every job waiting on one of the app's queues (as the worker would)."""
    import json

    import pika

    from app import broker

    with app.app_context():
        name = broker.queue_name(queue)
    connection = pika.BlockingConnection(pika.URLParameters(app.config["RABBITMQ_URL"]))
    channel = connection.channel()
    broker.declare(channel, name)
    jobs = []
    while True:
        method, properties, body = channel.basic_get(name, auto_ack=True)
        if method is None:
            break
        jobs.append(json.loads(body))
    connection.close()
    return jobs


def code_in(job):
    return re.search(r"\b(\d{6})\b", job["body"]).group(1)


def errors_in(html):
    """The error messages a page shows (field errors and form errors)."""
    found = re.findall(r'(?:class="(?:field-error|form-error)"|hx-target="#composer-error")[^>]*>(?:<p>)?([^<]+)', html)
    return [message.strip() for message in found if message.strip()]
