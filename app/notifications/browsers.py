"""Web Push: a notification in the browsers a person chose ("Notify me in
this browser"), for messages they have not seen a few seconds after they
came (so a message read at once, or one in the chat they are looking at,
makes none). One notification per chat, tagged with the chat, so a second
one replaces the first; clicking it opens the chat at its first unread
message (static/js/notify-worker.js).

Only the push services browsers use are ever sent to: an endpoint is the
browser's to give, and without the list a person could make the notify
worker send requests anywhere (request forgery). A subscription the service
says is gone (404, 410) is removed.
"""

import base64
import json
import logging
from urllib.parse import urlsplit

from flask import current_app, url_for
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from app import clock
from app.data import chats, messages, subscriptions, users
from app.notifications import settings

log = logging.getLogger(__name__)

TTL = 24 * 3600  # how long a push service keeps a notification for a browser that is off
TIMEOUT = 10  # seconds a push service has to answer
GONE = (404, 410)
# The push services of Chrome, Edge, Firefox and Safari (and their relatives).
SERVICES = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
)
MAX_ENDPOINT = 1000
MAX_KEY = 200


def enabled():
    return bool(current_app.config["VAPID_PRIVATE_KEY"])


def _vapid():
    return Vapid02.from_string(current_app.config["VAPID_PRIVATE_KEY"])


def public_key():
    """The application server key a page subscribes with (base64url of the P-256 point)."""
    from cryptography.hazmat.primitives import serialization

    point = _vapid().public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def known_service(host):
    for service in SERVICES:
        if host == service or (service.startswith("*.") and host.endswith(service[1:])):
            return True
    return False


def subscription_problem(endpoint, keys):
    """Why a browser's subscription cannot be taken, or None."""
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT:
        return "That is not a push subscription."
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError:
        return "That is not a push subscription."
    if parts.scheme != "https" or parts.username or parts.password or not known_service(parts.hostname or ""):
        return "This browser's push service is not one Parley knows."
    if not (
        isinstance(keys, dict)
        and all(isinstance(keys.get(name), str) and 0 < len(keys[name]) <= MAX_KEY for name in ("p256dh", "auth"))
    ):
        return "That is not a push subscription."
    return None


def check(user_id):
    """Notify the person's browsers of what they have not seen and were not notified of. Returns None."""
    found = subscriptions.of(user_id)
    if not found or not enabled():
        return None
    person = users.to_reach(user_id)
    unseen = [message for message in messages.unseen_by(user_id) if not message.get("pushed_at")]
    by_chat = {}
    for message in sorted(unseen, key=lambda message: message["seq"]):
        by_chat.setdefault(message["chat_id"], []).append(message)
    open_chats = {chat_id for chat_id, chat in chats.get_many(by_chat).items() if not chat.get("blocked_by")}
    waiting = {chat_id: found_here for chat_id, found_here in by_chat.items() if chat_id in open_chats}
    if not waiting or person is None:
        return None
    names = users.names({found_here[0]["sender_id"] for found_here in waiting.values()})
    quoting = settings.quotes_text(person)
    notifications = [notification(chat_id, found_here, names, quoting) for chat_id, found_here in waiting.items()]
    for subscription in found:
        for payload in notifications:
            if not send(subscription, payload):
                break
    messages.mark_told([m["_id"] for found_here in waiting.values() for m in found_here], "pushed_at", clock.now())
    return None


def notification(chat_id, found, names, quoting):
    """What the browser shows: who, and their latest message (or how many), and where a click goes."""
    latest = found[-1]
    name = names[latest["sender_id"]]
    count = len(found)
    if quoting and (latest.get("text") or "").strip():
        body = latest["text"][:200]
    elif quoting and latest.get("image"):
        body = f"Sent an image: {latest['image'].get('alt')}" if latest["image"].get("alt") else "Sent an image"
    else:
        body = "1 new message" if count == 1 else f"{count} new messages"
    return {
        "title": name,
        "body": body,
        "tag": str(chat_id),
        "url": url_for("chats.check", chat_id=chat_id),
    }


def send(subscription, payload):
    """Push `payload` to one browser; False if its subscription is gone (then it is removed)."""
    claims = {"sub": current_app.config["VAPID_SUBJECT"] or default_subject()}
    try:
        webpush(
            {"endpoint": subscription["endpoint"], "keys": subscription["keys"]},
            data=json.dumps(payload),
            vapid_private_key=_vapid(),
            vapid_claims=claims,
            ttl=TTL,
            timeout=TIMEOUT,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE:
            subscriptions.remove(subscription["endpoint"])
            return False
        log.warning("a push service refused a notification: %s", status or error)
    except OSError as error:  # the service cannot be reached now: the notification is of the moment, let it go
        log.warning("a push service did not answer: %r", error)
    return True


def default_subject():
    """VAPID's contact for the push services, when VAPID_SUBJECT is not set: the From address."""
    from email.utils import parseaddr

    return "mailto:" + parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
