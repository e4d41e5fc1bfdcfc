"""Operator commands (`flask --app wsgi COMMAND`): the release step, dead
letters, a person's data, and message search's keys."""

import unicodedata

# Control and format characters: a terminal acts on escape sequences, and a
# bidi override turns the rest of a line around.
UNSHOWN = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def printable(text, keep=""):
    """`text` for an operator's terminal: every control or format character
    (but those in `keep`) written as its Python escape (a forged dead
    letter's reason printed its terminal escape codes raw)."""
    return "".join(
        char.encode("unicode_escape").decode() if unicodedata.category(char) in UNSHOWN and char not in keep else char
        for char in str(text)
    )


def init_app(app):
    from app.cli import dead_letters, release, search, users

    for command in (release.release, dead_letters.group, users.group, search.group):
        app.cli.add_command(command)
