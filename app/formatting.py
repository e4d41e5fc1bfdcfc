"""Times as a reader sees them: in their own time zone (the `time_zone` of
their profile, an IANA name), or in UTC, labelled as such, until one is
known. Pages and pushes both format here, so they always agree."""

from datetime import UTC, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app import clock

# Browsers (ICU) still give some zones their old names; people look for the new ones.
RENAMED_ZONES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Godthab": "America/Nuuk",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
}


def zone_name(name):
    """The current IANA name for `name` if it is a zone we know, else None."""
    name = RENAMED_ZONES.get(name, name)
    return name if zone(name) else None


@lru_cache(maxsize=1)
def zone_names():
    """Every IANA zone name this system knows, sorted (for the Profile's choice)."""
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


@lru_cache(maxsize=1024)
def zone(name):
    """The ZoneInfo for an IANA name; None if unknown or unset (then times show in UTC)."""
    if not name or name not in zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def iso_time(at):
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(at):
    """ "2026-12-03T13:27:05.120Z", as JavaScript's toISOString writes it; None stays None."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"  # isoformat: a third of strftime's time


def local(at, tz):
    return at.astimezone(tz or UTC)


def clock_time(at, tz):
    """ "18:14", or "18:14 UTC" while the reader's zone is unknown."""
    return f"{local(at, tz):%H:%M}" + ("" if tz else " UTC")


def same_day(a, b, tz):
    return local(a, tz).date() == local(b, tz).date()


def date_label(day, today):
    """ "Monday 23 November", with the year when it is not this year's."""
    label = f"{day:%A} {day.day} {day:%B}"
    return label if day.year == today.year else f"{label} {day.year}"


def day_label(at, tz, now=None):
    """A date separator: "Today", "Yesterday", "Monday 23 November" (and the year if not this one)."""
    day = local(at, tz).date()
    today = local(now or clock.now(), tz).date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return date_label(day, today)


def full_label(at, tz, now=None):
    """The whole date and time: "Monday 23 November 2026, 18:14"."""
    day = local(at, tz).date()
    return f"{date_label(day, day.replace(year=day.year + 1))}, {clock_time(at, tz)}"


def short_label(at, tz, now=None):
    """For the Chats list: the time today, else "Yesterday", a weekday this week, or a date."""
    day = local(at, tz).date()
    today = local(now or clock.now(), tz).date()
    if day == today:
        return clock_time(at, tz)
    if day == today - timedelta(days=1):
        return "Yesterday"
    if today - day < timedelta(days=7):
        return f"{day:%A}"
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b} {day.year}"
