"""Names isolated and addresses linked, safely (issue 26, items 9 and 13)."""

import pytest

from app.text import bdi, isolate, linkify

REL = 'rel="noopener noreferrer nofollow ugc" target="_blank"'


def link(address, text=None):
    return f'<a href="{address}" {REL}>{text or address}</a>'


def test_a_name_is_escaped_and_isolated():
    assert bdi("<b>Eve</b>") == "<bdi>&lt;b&gt;Eve&lt;/b&gt;</bdi>"
    assert isolate("\u202eevE") == "\u2068\u202eevE\u2069"


@pytest.mark.parametrize(
    "text, html",
    [
        ("no address here", "no address here"),
        ("see https://example.com", "see " + link("https://example.com")),
        ("HTTP://EXAMPLE.COM/A", link("HTTP://EXAMPLE.COM/A")),
        # Punctuation that ends the sentence stays out of the link.
        ("Look: https://example.com/a.", "Look: " + link("https://example.com/a") + "."),
        ("https://example.com/?q=1, then", link("https://example.com/?q=1") + ", then"),
        ("Really? https://example.com/x!?", "Really? " + link("https://example.com/x") + "!?"),
        # Brackets: kept when the address opened them, left out when the sentence did.
        ("(see https://example.com/a)", "(see " + link("https://example.com/a") + ")"),
        ("https://en.wikipedia.org/wiki/Parley_(film)",
         link("https://en.wikipedia.org/wiki/Parley_(film)")),
        ("(https://en.wikipedia.org/wiki/Parley_(film)).",
         "(" + link("https://en.wikipedia.org/wiki/Parley_(film)") + ")."),
        # The query's & is escaped in the attribute and the text alike.
        ("https://example.com/?a=1&b=2", link("https://example.com/?a=1&amp;b=2")),
        # Two addresses, and text between them escaped.
        ("a https://a.example <b> https://b.example",
         "a " + link("https://a.example") + " &lt;b&gt; " + link("https://b.example")),
    ],
)
def test_addresses_become_links(text, html):
    assert linkify(text) == html


@pytest.mark.parametrize(
    "text, html",
    [
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("JaVaScRiPt://example.com/%0aalert(1)", "JaVaScRiPt://example.com/%0aalert(1)"),
        ("data:text/html,<script>x</script>", "data:text/html,&lt;script&gt;x&lt;/script&gt;"),
        ("ftp://example.com/file", "ftp://example.com/file"),
        ("https://", "https://"),
        ("https:///path", "https:///path"),
        # A quote or an angle bracket ends the address: nothing can leave the attribute.
        ('https://example.com/"onmouseover="alert(1)',
         link("https://example.com/") + "&#34;onmouseover=&#34;alert(1)"),
        ("https://example.com/'x", link("https://example.com/") + "&#39;x"),
        ("https://example.com/<script>alert(1)</script>",
         link("https://example.com/") + "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<a href='https://evil.example'>x</a>",
         "&lt;a href=&#39;" + link("https://evil.example") + "&#39;&gt;x&lt;/a&gt;"),
    ],
)
def test_nothing_else_becomes_markup(text, html):
    assert linkify(text) == html


def test_an_address_inside_a_word_is_not_one():
    assert linkify("xhttps://example.com") == "xhttps://example.com"
