"""A push carries its events beside its HTML: pages get the HTML as before,
and a push of events alone is nothing to a page."""

import json

from app.realtime.push import Push, body, frame, parse_published, unpack


def test_a_push_without_events_is_its_html_alone():
    assert body("<p>hi</p>", []) == "<p>hi</p>"
    assert unpack("1-0", "<p>hi</p>") == Push("1-0", "<p>hi</p>")


def test_events_travel_before_the_html_and_come_apart_again():
    events = [["message", {"text": "a \x00 nul, \x1e and a quote \" in text"}]]
    kept = body('<p id="m-1">hi</p>', [json.dumps(event) for event in events])
    pushed = parse_published("5-1 " + kept)
    assert pushed.html == '<p id="m-1">hi</p>' and pushed.id == "5-1"
    assert json.loads(pushed.events) == events
    assert frame(pushed) == '{"id": "5-1", "content": "<p id=\\"m-1\\">hi</p>"}'  # what a page gets is unchanged


def test_a_push_of_events_alone_is_not_for_pages():
    pushed = parse_published("- " + body("", ['["chat", {"chat_id": "x"}]']))
    assert pushed.html == "" and pushed.events and not pushed.for_pages
    assert Push(None, "<p>x</p>").for_pages and Push("1-0", refresh=True).for_pages
