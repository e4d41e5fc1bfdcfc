"""What a name may be. People see each other's names on every page, so a
name must show as what it is: no control characters (NUL, BEL, ESC), no
line or paragraph separators, no format characters (a right-to-left
override turned the rest of a line around on the other person's pages, and
a name of zero-width spaces was invisible). A zero-width joiner or
non-joiner stays where a script or an emoji needs it, between two visible
characters. Names are kept in NFC, so one name has one form."""

import unicodedata

JOINERS = {"\u200c", "\u200d"}  # ZWNJ (Persian, Indic scripts), ZWJ (those, and emoji sequences)
# Letters and symbols that show as blank space (fillers), used to make invisible names.
BLANK = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
REFUSED = "Your name cannot contain control, formatting or line-break characters."
INVISIBLE = "Your name needs at least one visible letter, digit or symbol."


def _visible(char):
    return unicodedata.category(char)[0] in "LNPS" and char not in BLANK


def _joins(char):
    """What a joiner may stand beside: a visible character or a mark (an emoji's variation selector)."""
    return _visible(char) or unicodedata.category(char)[0] == "M"


def normal(name):
    """The one form of a name: NFC, spaces trimmed."""
    return unicodedata.normalize("NFC", name).strip() if isinstance(name, str) else name


def check(name):
    """ValueError, with the message to show, if `name` (in its normal form) cannot be a name."""
    for at, char in enumerate(name):
        if char in JOINERS:
            if 0 < at < len(name) - 1 and _joins(name[at - 1]) and _joins(name[at + 1]):
                continue
            raise ValueError(REFUSED)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise ValueError(REFUSED)
    if name and not any(_visible(char) for char in name):
        raise ValueError(INVISIBLE)
