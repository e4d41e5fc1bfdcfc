"""What Profile's Notifications section shows: the settings as chosen, the
email as the person would get it (about a sample conversation), and
whether this Parley can notify browsers."""

from datetime import timedelta

from flask import current_app

from app import clock, letters
from app.notifications import browsers, settings
from app.notifications.letters import MISSED_MESSAGES

SAMPLE = [("Are you free for a call this afternoon?", 0), ("I have the numbers for Thursday. They look good!", 3)]


def context(user):
    """What Profile's Notifications section shows."""
    _, preview_text, _ = sample_parts(user)
    return {
        "email_choices": settings.email_choices(),
        "email_choice": settings.email_choice(user),
        "hide_text": not ((user.get("notify") or {}).get("text", True)),
        "text_off_for_everyone": not current_app.config["MISSED_MESSAGE_TEXT"],
        "preview_text": preview_text,
        "preview_version": f"{settings.email_choice(user)}-{int(settings.quotes_text(user))}",
        "push_key": browsers.public_key() if browsers.enabled() else None,
        "browsers": settings.browsers(user),
    }


def sample_parts(user):
    """The missed-message email as `user` would get it, about two messages from Ada Lovelace."""
    quoting = settings.quotes_text(user)
    now = clock.now()
    values = {
        "name": user["name"],
        "user_id": str(user["_id"]),
        "time_zone": user.get("time_zone"),
        "text": bool(quoting),
        "chats": [
            {
                "chat_id": "0" * 24,
                "from": "Ada Lovelace",
                "count": len(SAMPLE),
                "messages": [
                    {"at": (now - timedelta(minutes=ago)).isoformat(), "text": text if quoting else "", "image": None}
                    for text, ago in reversed(SAMPLE)
                ],
            }
        ],
        "more_chats": 0,
        "more_messages": 0,
    }
    return letters.parts(MISSED_MESSAGES, values)
