"""The missed-message email, as a letter (app/letters.py) on `send-mail`.

Its values are what the notify worker found (app/notifications/mail.py):
the person's name and zone, whether text may be quoted, and for each chat
the other person's name, how many messages wait and the latest few. Links
are made here, from ids: a chat's opens it at its first unread message
(`/chats/<id>/new`, through sign-in when the browser has no session), and
one-click unsubscribe (RFC 8058) carries a signed token, so it works
without signing in and does nothing else.
"""

from datetime import datetime

from bson import ObjectId
from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from app import broker, formatting, letters
from app.data.users import MAX_NAME

MAX_CHATS = 10  # chats listed in one email; the rest are counted
MAX_SHOWN = 5  # latest messages quoted per chat
MAX_TEXT = 4000
MAX_ALT = 300
MAX_COUNT = 1_000_000


def unsubscribe_token(user_id):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notify-unsubscribe").dumps(str(user_id))


def user_of(token):
    """The user id an unsubscribe token was made for, or None if it is not one of ours."""
    try:
        found = URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notify-unsubscribe").loads(token)
    except BadSignature:
        return None
    return ObjectId(found) if isinstance(found, str) and ObjectId.is_valid(found) else None


def _id(value, name):
    if not (isinstance(value, str) and ObjectId.is_valid(value)):
        raise ValueError(f"{name} is not an id")


def _at(value):
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("a message's at is not an ISO time") from None


def check(values):
    letters.exactly(values, {"name", "user_id", "time_zone", "text", "chats", "more_chats", "more_messages"})
    letters.text(values["name"], "name", MAX_NAME)
    _id(values["user_id"], "user_id")
    if values["time_zone"] is not None and not formatting.zone_name(values["time_zone"]):
        raise ValueError("time_zone is not a zone")
    if not isinstance(values["text"], bool):
        raise ValueError("text is not true or false")
    chats = values["chats"]
    if not (isinstance(chats, list) and 0 < len(chats) <= MAX_CHATS):
        raise ValueError(f"chats is not a list of 1 to {MAX_CHATS}")
    letters.whole(values["more_chats"], "more_chats", 0, MAX_COUNT)
    letters.whole(values["more_messages"], "more_messages", 0, MAX_COUNT)
    for chat in chats:
        letters.exactly(chat, {"chat_id", "from", "count", "messages"})
        _id(chat["chat_id"], "chat_id")
        letters.text(chat["from"], "from", MAX_NAME)
        letters.whole(chat["count"], "count", 1, MAX_COUNT)
        shown = chat["messages"]
        if not (isinstance(shown, list) and 0 < len(shown) <= min(MAX_SHOWN, chat["count"])):
            raise ValueError(f"messages is not a list of 1 to {MAX_SHOWN}")
        for message in shown:
            letters.exactly(message, {"at", "text", "image"})
            _at(message["at"])
            letters.text(message["text"], "text", MAX_TEXT if values["text"] else 0, empty=True)
            if message["image"] is not None:
                letters.text(message["image"], "image", MAX_ALT, empty=True)


def plural(count, word):
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def counted(values):
    """(how many messages, from whom): ("5 new messages", "Ada Lovelace and 2 others")."""
    total = sum(chat["count"] for chat in values["chats"]) + values["more_messages"]
    others = len(values["chats"]) - 1 + values["more_chats"]
    who = values["chats"][0]["from"] + (f" and {plural(others, 'other')}" if others else "")
    return plural(total, "new message"), who


def subject(values):
    """ "2 new messages from Ada Lovelace"; "5 new messages from Ada Lovelace and 2 others"."""
    return "{} from {}".format(*counted(values))


def when(at, tz):
    """A message's time as the email gives it: "10:02" today, else "Tuesday 10:02" or "1 Dec 10:02"."""
    day = formatting.short_label(at, tz)
    time = formatting.clock_time(at, tz)
    return day if day == time else f"{day} {time}"


def headers(values):
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(values['user_id'])}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe_url(user_id):
    return url_for("notifications.unsubscribe", token=unsubscribe_token(user_id), _external=True)


def context(values):
    """What the templates show: times in the person's zone, words for counts, the links."""
    tz = formatting.zone(values["time_zone"])
    chats = []
    for chat in values["chats"]:
        shown = []
        for message in chat["messages"]:
            at = datetime.fromisoformat(message["at"])
            image = message["image"]
            shown.append(
                {
                    "time": when(at, tz),
                    "when": formatting.full_label(at, tz),
                    "text": message["text"],
                    "image": None if image is None else (f"an image: {image}" if image else "an image"),
                }
            )
        chats.append(
            {
                "name": chat["from"],
                "count": plural(chat["count"], "new message"),
                "messages": shown,
                "earlier": chat["count"] - len(shown),
                "url": url_for("chats.check", chat_id=chat["chat_id"], _external=True),
            }
        )
    more = (
        values["more_chats"]
        and f"{plural(values['more_messages'], 'more message')} in {plural(values['more_chats'], 'other chat')}"
    )
    return {
        "name": values["name"],
        "summary": "{} in Parley, from {}".format(*counted(values)),
        "text": values["text"],
        "chats": chats,
        "more": more,
        "chats_url": url_for("chats.home", _external=True),
        "settings_url": url_for("people.profile", _anchor="notifications", _external=True),
        "unsubscribe_url": unsubscribe_url(values["user_id"]),
    }


MISSED_MESSAGES = letters.Letter(
    name="missed_messages",
    queue=broker.SEND_MAIL,
    check=check,
    subject=subject,
    html=True,
    headers=headers,
    context=context,
)
