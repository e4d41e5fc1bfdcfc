"""Showing what people wrote inside Parley's own words: names isolated from
the sentence around them (so a right-to-left name, or one with direction
controls, cannot reorder it), and web addresses in messages made links."""

import re
import unicodedata

from markupsafe import Markup, escape

FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2068", "\u2069"

# An http or https address: a host, then anything up to a space or a character
# that cannot be in one unescaped. Quotes and angle brackets end it, so no
# attribute or tag can begin inside a link.
ADDRESS = re.compile(r"\bhttps?://[^\s<>\"'`/?#]+[^\s<>\"'`]*", re.IGNORECASE)
TRAILING = ".,;:!?*_~"  # ends a sentence more often than an address
CLOSERS = {")": "(", "]": "[", "}": "{"}
LINK_REL = "noopener noreferrer nofollow ugc"


def bdi(name):
    """`name` for HTML, isolated from the text around it."""
    return Markup("<bdi>{}</bdi>").format(name)


def isolate(name):
    """`name` for plain text where no markup can go (a document title): between Unicode isolates."""
    return f"{FIRST_STRONG_ISOLATE}{name}{POP_DIRECTIONAL_ISOLATE}"


def _trim(address):
    """The address without what more likely ends the sentence around it: trailing
    punctuation, and a closing bracket that opened outside it ("(see https://a.b/c)")."""
    while address:
        last = address[-1]
        if last in TRAILING:
            address = address[:-1]
        elif last in CLOSERS and address.count(last) > address.count(CLOSERS[last]):
            address = address[:-1]
        else:
            break
    return address


def linkify(text):
    """Message text as HTML: every piece escaped, and each http(s) address a
    link that opens in a new tab and vouches for nothing (rel ugc, nofollow).
    No other scheme is ever linked (javascript:, data:, …)."""
    parts, done = [], 0
    for found in ADDRESS.finditer(text):
        address = _trim(found.group())
        if "://" not in address or address.endswith("://"):
            continue
        start, end = found.start(), found.start() + len(address)
        parts.append(escape(text[done:start]))
        parts.append(Markup('<a href="{0}" rel="{1}" target="_blank">{0}</a>').format(address, LINK_REL))
        done = end
    parts.append(escape(text[done:]))
    return Markup("").join(parts)


# Search: a word is a run of letters and digits, compared casefolded and
# without accents ("Café" is "cafe"); a very long one (a hash, a long address
# piece) counts by its first MAX_WORD characters.
WORD = re.compile(r"\w+")
MAX_WORD = 24


def search_word(token):
    """One word as search compares it: compatibility-decomposed (NFKD), its
    combining marks dropped, casefolded, cut to MAX_WORD characters."""
    decomposed = unicodedata.normalize("NFKD", token)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare.casefold())[:MAX_WORD]


def search_words(text):
    """The words of `text` as search compares them, in order (repeats kept)."""
    return [word for word in (search_word(token) for token in WORD.findall(text or "")) if word]


def search_spans(text):
    """(start, end, word) for each word of `text`: where to mark a match."""
    return [(found.start(), found.end(), search_word(found.group())) for found in WORD.finditer(text or "")]
