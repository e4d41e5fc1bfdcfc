"""Development only: read what the local SMTP sink received (`/dev/mailbox`),
so a newcomer can sign in without a real mail server. Each email shows as a
person's mail client would: its HTML part in a sandboxed frame of its own
(no script, framed only here), its plain-text part, and its unsubscribe link."""

import mailbox
import os
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from flask import Blueprint, abort, current_app, render_template

from app import letters

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _box(path):
    return mailbox.Maildir(path, create=False) if os.path.isdir(os.path.join(path, "new")) else None


def _read(box, key):
    message = message_from_bytes(box.get_bytes(key), policy=policy.default)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    return {
        "id": key,
        "sent_at": parsedate_to_datetime(message["Date"]) if message["Date"] else None,
        "sender": message["From"],
        "to": message["To"],
        "subject": message["Subject"],
        "unsubscribe": message["List-Unsubscribe"],
        "one_click": message["List-Unsubscribe-Post"],
        "body": plain.get_content() if plain else "",
        "html": html.get_content() if html else None,
    }


def _messages(path):
    box = _box(path)
    if box is None:
        return []
    messages = [_read(box, key) for key in box.keys()]
    return sorted(messages, key=lambda m: m["sent_at"].timestamp() if m["sent_at"] else 0, reverse=True)


@bp.get("/mailbox")
def show_mailbox():
    path = current_app.config["DEV_MAILBOX"]
    return render_template("dev/mailbox.html", messages=_messages(path)[:50], path=path)


@bp.get("/mailbox/<key>/html")
def show_html(key):
    """One email's HTML part, for its frame in the mailbox."""
    box = _box(current_app.config["DEV_MAILBOX"])
    try:
        html = box and _read(box, key)["html"]
    except KeyError:
        html = None
    if not html:
        abort(404)
    return letters.framed(html)
