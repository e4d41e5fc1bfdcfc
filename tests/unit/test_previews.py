"""A message's preview in Chats ends at a word (issue 26, item 17)."""

from app.chats.present import PREVIEW_LENGTH, preview


def test_a_short_message_is_its_own_preview_on_one_line():
    assert preview("Line one\nLine two") == "Line one Line two"


def test_a_long_one_ends_at_a_word_with_an_ellipsis():
    text = "This message is long enough that its preview in Chats must be truncated somewhere sensible, not mid-word"
    assert preview(text) == "This message is long enough that its preview in Chats must be truncated…"
    assert len(preview(text)) <= PREVIEW_LENGTH


def test_punctuation_before_the_cut_goes_with_it():
    assert preview("a" * 70 + ", " + "b" * 30) == "a" * 70 + "…"


def test_one_very_long_word_is_cut_inside_it():
    assert preview("x" * 200) == "x" * (PREVIEW_LENGTH - 1) + "…"
