"""Message search's pure parts: words as search compares them, the keys a
message is found by, which texts a query matches, and how a match is marked."""

from app.data.search import key_for, keys
from app.search.results import has_words, marked
from app.text import search_words


def test_words_are_casefolded_without_accents_and_compatibility_forms():
    assert search_words("Café CRÈME brûlée, Straße ﬁne İstanbul Ǆemal 東京") == [
        "cafe",
        "creme",
        "brulee",
        "strasse",
        "fine",
        "istanbul",
        "dzemal",
        "東京",
    ]
    assert search_words("javascript:alert(1) <b>x</b>") == ["javascript", "alert", "1", "b", "x", "b"]
    assert search_words("a" * 40) == ["a" * 24]  # a very long word counts by its beginning
    assert search_words(None) == [] and search_words("  ¡¿!  ") == []


def test_a_message_is_found_by_each_member_by_its_words_and_their_beginnings():
    found = keys("Lake café", ["alice", "bob"])
    assert "alice lake" in found and "bob lake" in found and "alice caf" in found and "bob cafe" in found
    assert "alice l" not in found  # beginnings start at two letters
    assert keys("", ["alice", "bob"]) == []  # a cleared (deleted) message is found by nothing
    long = keys("supercalifragilistic", ["a"])
    assert "a supercalif" in long and "a supercalifr" not in long  # ten letters at most...
    assert "a supercalifragilistic" in long  # ...and the whole word
    assert (
        key_for("supercalifragi", last=True) == "supercalif"
        and key_for("supercalifragi", last=False) == "supercalifragi"
    )


def test_a_query_matches_every_word_and_begins_the_last():
    assert has_words("The Café by the lake", search_words("cafe LA"))
    assert not has_words("The Café by the lake", search_words("la cafe"))  # only the last is a beginning
    assert not has_words("The Café by the lake", search_words("cafe sea"))


def test_matches_are_marked_in_escaped_text_and_long_texts_are_cut_around_the_first():
    assert (
        marked("<b>Café</b> & CAFE", search_words("cafe"))
        == "&lt;b&gt;<mark>Café</mark>&lt;/b&gt; &amp; <mark>CAFE</mark>"
    )
    text = "word " * 60 + "needle " + "word " * 60
    shown = marked(text, ["needle"])
    assert shown.startswith("…") and shown.endswith("…") and "<mark>needle</mark>" in shown and len(shown) < 200
