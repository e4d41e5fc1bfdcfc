"""Emails as letters: a template and the values it is filled with.

A mail job names its letter and gives only values, never a subject or a
body: the mail worker checks the values against the letter, then renders
its subject, its plain-text part and its HTML part (Jinja's autoescape
covers every value). So a job that finds its way onto a queue can send
nothing but Parley's own letters, to one address, with checked values.
Each feature declares its letters (auth: the sign-in code; notifications:
missed messages) and `init_app` gathers them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr

from flask import current_app, render_template
from flask_mail import Message

FIELDS = {"to", "template", "values", "key"}  # what a mail job may hold; anything else is refused
MAX_KEY = 200


class Invalid(ValueError):
    """The job is not one of our letters with good values: the reason says why."""


@dataclass(frozen=True)
class Letter:
    """`check(values)` raises ValueError for values the letter cannot take;
    `subject(values)` is the subject line; `headers(values)` any headers of
    its own (List-Unsubscribe, say). Its parts are the templates
    mail/<name>.txt and, if `html`, mail/<name>.html, rendered with `values`."""

    name: str
    queue: str
    check: Callable[[dict], None]
    subject: Callable[[dict], str]
    html: bool = False
    headers: Callable[[dict], dict] = field(default=lambda values: {})
    context: Callable[[dict], dict] = field(default=lambda values: values)


def init_app(app, letters):
    app.extensions["letters"] = {letter.name: letter for letter in letters}


def job(to, letter, values, key=None):
    """The queued job for one letter (DESIGN.md's mail job)."""
    fields = {"to": to, "template": letter.name, "values": values}
    if key:
        fields["key"] = key
    return fields


def letter_of(fields, queue):
    """The letter a job asks for, with its values checked; Invalid if the
    job holds anything but a letter of this queue and its values."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise Invalid(f"unknown field {', '.join(map(repr, unknown))}: a mail job gives a template and its values")
    letter = current_app.extensions["letters"].get(fields.get("template"))
    if letter is None or letter.queue != queue:
        raise Invalid(f"no template {fields.get('template')!r} on {queue}")
    values, key = fields.get("values"), fields.get("key")
    if not isinstance(values, dict):
        raise Invalid("values is not an object")
    if key is not None and not (isinstance(key, str) and 0 < len(key) <= MAX_KEY):
        raise Invalid("key is not a short string")
    try:
        letter.check(values)
    except (ValueError, TypeError, KeyError) as error:
        raise Invalid(f"{letter.name}: {error}") from None
    return letter


def for_public_url(app):
    """A request context whose url_for(_external=True) gives PUBLIC_URL's links, for workers."""
    return app.test_request_context(base_url=app.config["PUBLIC_URL"])


def parts(letter, values):
    """(subject, plain text, HTML or None): what a person's mail client shows."""
    subject, context = letter.subject(values), letter.context(values)
    text = render_template(f"mail/{letter.name}.txt", subject=subject, **context)
    html = render_template(f"mail/{letter.name}.html", subject=subject, **context) if letter.html else None
    return subject, text, html


def message(to, letter, values, key=None):
    """The Flask-Mail message for a checked letter. A keyed one has a
    Message-ID made from its key: sent twice (a worker stopped between the
    server taking it and noting it), many mailboxes show it once."""
    subject, text, html = parts(letter, values)
    found = Message(subject=subject, recipients=[to], body=text, html=html, extra_headers=letter.headers(values))
    if key:
        domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2]
        found.msgId = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', key)}@{domain}>"
    return found


# An email's HTML part shown inside one of our pages (the dev mailbox, the
# Profile's preview): a document of its own, with no script at all, the
# inline style a mail client allows, and framed by our own pages only.
FRAMED_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)


def framed(html):
    """A view's answer: the HTML part as a page for a sandboxed <iframe>."""
    return html, 200, {"Content-Security-Policy": FRAMED_CSP, "X-Frame-Options": "SAMEORIGIN"}


# Small checks the letters share.


def text(value, name, longest, empty=False):
    if not isinstance(value, str) or len(value) > longest or (not empty and not value.strip()):
        raise ValueError(f"{name} is not a string of at most {longest} characters")
    return value


def whole(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} is not a whole number from {low} to {high}")
    return value


def exactly(values, names):
    """The values have these names and no others."""
    if set(values) != set(names):
        raise ValueError(f"values are not {', '.join(sorted(names))}")
