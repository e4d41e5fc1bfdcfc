"""How a person wants to be reached when they are away: when an email about
missed messages may come (a delay after the first message they have not
seen), and whether it may quote those messages. Kept on the user as
`notify` (app/data/users.py); a setting never chosen is the default."""

from flask import current_app

PUSH_AFTER = 5  # seconds from an unseen message to its browser notification: one read at once makes none
DEFAULT = "default"
NEVER = "never"
# Choice -> seconds after the first unseen message; the default's is MISSED_MESSAGE_DELAY.
DELAYS = {"5m": 300, DEFAULT: None, "1h": 3600, "1d": 86400, NEVER: None}
LABELS = {"5m": "Within 5 minutes", "1h": "Within an hour", "1d": "Once a day", NEVER: "Never"}


def email_choice(person):
    choice = ((person or {}).get("notify") or {}).get("email")
    return choice if choice in DELAYS else DEFAULT


def email_delay(person):
    """Seconds from a first unseen message to the email about it; None for "Never"."""
    choice = email_choice(person)
    if choice == NEVER:
        return None
    return DELAYS[choice] or current_app.config["MISSED_MESSAGE_DELAY"]


def quotes_text(person):
    """Whether emails and notifications to the person may carry message text:
    theirs to choose, unless the operator turned text off for everyone."""
    return current_app.config["MISSED_MESSAGE_TEXT"] and ((person or {}).get("notify") or {}).get("text", True)


def browsers(person):
    return ((person or {}).get("notify") or {}).get("browsers", 0)


def duration(seconds):
    """ "10 minutes", "an hour", "2 seconds": how long a delay is, in words."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"an {unit}" if count == 1 and unit == "hour" else f"a {unit}" if count == 1 else f"{count} {unit}s"
    return "a second" if seconds == 1 else f"{seconds} seconds"


def email_choices():
    """[(choice, label)] in the order Profile lists them."""
    default = f"Within {duration(current_app.config['MISSED_MESSAGE_DELAY'])}"
    return [(choice, LABELS.get(choice, default)) for choice in DELAYS]
