"""Development only: read what the local SMTP sink received (`/dev/mailbox`),
so a newcomer can sign in without a real mail server."""

import mailbox
import os
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

from flask import Blueprint, current_app, render_template

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _messages(path):
    if not os.path.isdir(os.path.join(path, "new")):
        return []
    box = mailbox.Maildir(path, create=False)
    messages = []
    for key in box.keys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        body = message.get_body(("plain", "html"))
        messages.append(
            {
                "id": key,
                "sent_at": parsedate_to_datetime(message["Date"]) if message["Date"] else None,
                "sender": message["From"],
                "to": message["To"],
                "subject": message["Subject"],
                "body": body.get_content() if body else "",
            }
        )
    return sorted(messages, key=lambda m: m["sent_at"].timestamp() if m["sent_at"] else 0, reverse=True)


@bp.get("/mailbox")
def show_mailbox():
    path = current_app.config["DEV_MAILBOX"]
    return render_template("dev/mailbox.html", messages=_messages(path)[:50], path=path)
