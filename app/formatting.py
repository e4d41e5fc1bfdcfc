"""Template filters for times: machine-readable, and a UTC label that the
page script replaces with one in the reader's own time zone."""

from datetime import UTC


def iso_time(at):
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_label(at):
    at = at.astimezone(UTC)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"
