"""What a name may be (issue 30, finding 7): what shows as itself is
accepted, in one form; what hides or scrambles is refused with a reason."""

import unicodedata

import pytest

from app.people import names

ACCEPTED = [
    "Ada Lovelace",
    "Zoë",
    "محمد",
    "עדה לאבלייס",
    "می‌خواهم",  # Persian: a ZWNJ inside a word
    "क्‍ष",  # Devanagari: a ZWJ inside a word
    "Ada 👩‍💻",  # an emoji ZWJ sequence
    "❤️‍🔥",  # with a variation selector before the joiner
    "李小龍",
    "O'Brien-Smith Jr.",
]

REFUSED = {
    "right-to-left override": "Ada\u202eevoL",
    "left-to-right isolate": "\u2066Ada",
    "zero-width space": "Ad\u200ba",
    "byte order mark": "\ufeffAda",
    "NUL": "Ada\x00",
    "BEL": "Ada\x07",
    "ESC": "\x1b[31mAda",
    "line separator": "Ada\u2028Lovelace",
    "paragraph separator": "Ada\u2029Lovelace",
    "newline": "Ada\nLovelace",
    "joiner at the start": "\u200dAda",
    "joiner between spaces": "Ada \u200c Lovelace",
    "private use": "Ada\ue000",
}

INVISIBLE = {
    "Hangul filler": "\u3164",
    "braille blank": "\u2800\u2800",
    "combining mark alone": "\u0301",
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_names_that_show_as_themselves_are_accepted(name):
    names.check(names.normal(name))


@pytest.mark.parametrize("name", REFUSED.values(), ids=REFUSED.keys())
def test_control_format_and_separator_characters_are_refused(name):
    with pytest.raises(ValueError, match="cannot contain control, formatting or line-break characters"):
        names.check(names.normal(name))


@pytest.mark.parametrize("name", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_name_with_nothing_visible_is_refused(name):
    with pytest.raises(ValueError, match="at least one visible letter, digit or symbol"):
        names.check(names.normal(name))


def test_a_name_is_kept_in_nfc():
    decomposed = "Zoe\u0308 "
    assert names.normal(decomposed) == "Zoë" == unicodedata.normalize("NFC", decomposed).strip()
    assert names.normal("\u00a0\u3000") == ""  # only spaces: empty, which the form asks to fill in
