"""Replies: a message answering an earlier one carries a quote of it, copied
when it is sent, and a link that opens the original in place. Real
RabbitMQ, SecantusDB and Redis; the chat worker runs in this process."""

import html
import re
import uuid

from bson import ObjectId

from app.chats.sending.job import Job
from app.connections import db
from tests.support.people import HTMX, person, send
from tests.support.queues import publish, queued_jobs, run_chat_worker


def said(app, pair, text):
    with app.app_context():
        return db().messages.find_one({"chat_id": pair.id, "text": text})


def test_a_reply_carries_a_quote_of_the_original_and_a_link_to_it(pair, ns_app, pushes):
    alice, bob = pair.alice, pair.bob
    send(alice, "Where shall we meet on Friday evening?", headers=HTMX)
    assert run_chat_worker(ns_app) == {}
    original = said(ns_app, pair, "Where shall we meet on Friday evening?")

    box = bob.get(f"{pair.url}/replying/{original['client_id']}", headers=HTMX).get_data(as_text=True)
    assert 'id="composer-reply"' in box and f'name="reply_to" value="{original["client_id"]}"' in box
    quote = r'Replying to <bdi[^>]*>\S*</bdi>: <span dir="auto">Where shall we meet on Friday evening\?'
    assert re.search(quote, box)
    assert "Cancel reply" in box

    response = send(bob, "At the station", headers=HTMX, reply_to=original["client_id"])
    assert response.status_code == 200
    [job] = queued_jobs(ns_app, "chat:messages")  # taken: the worker gets it back below
    assert job["reply_to"]["client_id"] == original["client_id"]
    assert job["reply_to"]["text"] == "Where shall we meet on Friday evening?"
    publish(ns_app, "chat:messages", job)
    assert run_chat_worker(ns_app) == {}
    reply = said(ns_app, pair, "At the station")
    assert reply["reply_to"]["sender_id"] == alice.user["_id"]

    element = f'm-{original["client_id"]}'
    link = f'href="{pair.url}/messages/{original["seq"]}" data-original="{element}">Go to the original</a>'
    for reader, who in ((alice, "You"), (bob, html.escape(alice.user["name"]))):
        page = reader.get(pair.url).get_data(as_text=True)
        assert f'<bdi class="quote-sender">{who}</bdi>' in page and link in page
        assert "Where shall we meet on Friday evening?</span>" in page
        assert link in pushes.to(reader.user["_id"])  # the pushed message says the same


def test_the_quote_stays_as_it_was_sent_when_the_original_changes(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    send(alice, "Meet at noon", headers=HTMX)
    run_chat_worker(ns_app)
    original = said(ns_app, pair, "Meet at noon")
    send(bob, "Fine", headers=HTMX, reply_to=original["client_id"])
    run_chat_worker(ns_app)
    edited = alice.post(
        f"{pair.url}/messages/{original['client_id']}/edit",
        data={"text": "Meet at one", "client_id": uuid.uuid4().hex, "csrf_token": alice.token},
        headers=HTMX,
    )
    assert edited.status_code < 400
    run_chat_worker(ns_app)
    assert said(ns_app, pair, "Meet at one")  # the original, edited
    page = bob.get(pair.url).get_data(as_text=True)
    assert '<span class="quote-text" dir="auto">Meet at noon</span>' in page


def test_a_long_original_is_quoted_by_its_first_words_and_an_image_by_its_kind(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    words = "Please bring the blue folder, the two spare keys and the old map of the harbour to the meeting tomorrow"
    send(alice, words, headers=HTMX)
    run_chat_worker(ns_app)
    original = said(ns_app, pair, words)
    send(bob, "Will do", headers=HTMX, reply_to=original["client_id"])
    run_chat_worker(ns_app)
    quote = said(ns_app, pair, "Will do")["reply_to"]["text"]
    assert quote.endswith("…") and len(quote) <= 100 and words.startswith(quote[:-1])


def test_without_javascript_reply_opens_the_chat_with_the_reply_in_the_composer(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    send(alice, "Coffee?", headers=HTMX)
    run_chat_worker(ns_app)
    original = said(ns_app, pair, "Coffee?")
    page = bob.get(pair.url).get_data(as_text=True)
    reply_href = html.escape(f"{pair.url}?reply={original['client_id']}#composer")
    assert f'href="{reply_href}"' in page  # each message's Reply link

    page = bob.get(f"{pair.url}?reply={original['client_id']}").get_data(as_text=True)
    assert f'name="reply_to" value="{original["client_id"]}"' in page
    response = send(bob, "Yes please", reply_to=original["client_id"])
    assert response.status_code == 303
    run_chat_worker(ns_app)
    assert said(ns_app, pair, "Yes please")["reply_to"]["client_id"] == original["client_id"]
    # The htmx path redirects a plain visit to the same place.
    plain = bob.get(f"{pair.url}/replying/{original['client_id']}")
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"?reply={original['client_id']}#composer")


def test_a_reply_to_a_message_not_in_the_chat_is_refused_clearly_and_keeps_the_draft(pair, ns_app):
    bob = pair.bob
    missing = "0" * 32
    response = send(bob, "My careful answer", reply_to=missing)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The message you are replying to is not in this chat. Reply to another one." in page
    assert ">My careful answer</textarea>" in page
    refused = send(bob, "Again", headers=HTMX, reply_to="not-an-id")
    assert refused.status_code == 422 and "not in this chat" in refused.get_data(as_text=True)
    assert queued_jobs(ns_app, "chat:messages") == []
    box = bob.get(f"{pair.url}/replying/{missing}", headers=HTMX).get_data(as_text=True)
    assert 'name="reply_to"' not in box and "not in this chat" in box


def test_only_saved_messages_offer_reply(pair, ns_app):
    alice = pair.alice
    send(alice, "Still on its way", headers=HTMX)
    page = alice.get(pair.url).get_data(as_text=True)
    assert "Still on its way" in page and "reply-link" not in page.split('id="pending-message"')[0]
    run_chat_worker(ns_app)
    assert "reply-link" in alice.get(pair.url).get_data(as_text=True)


def test_a_message_of_another_chat_cannot_be_quoted(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    carol = person(ns_app, "carol")
    response = carol.post("/chats", data={"user_id": str(alice.user["_id"]), "csrf_token": carol.token})
    carol.chat_url = response.headers["Location"]
    send(carol, "Alice, a secret between us", headers=HTMX)
    run_chat_worker(ns_app)
    with ns_app.app_context():
        secret = db().messages.find_one({"text": "Alice, a secret between us"})
    refused = send(bob, "Quoting it", headers=HTMX, reply_to=secret["client_id"])
    assert refused.status_code == 422 and "not in this chat" in refused.get_data(as_text=True)
    assert "a secret" not in bob.get(f"{pair.url}?reply={secret['client_id']}").get_data(as_text=True)


def test_a_forged_job_quoting_someone_outside_the_chat_is_not_delivered(pair, ns_app):
    job = {
        **Job.new(uuid.uuid4().hex, pair.id, pair.alice.user["_id"], "Look what you said").fields(),
        "reply_to": {"client_id": "1" * 32, "seq": 1, "sender_id": str(ObjectId()), "name": "M", "text": "Lies"}
        | {"image": False},
    }
    publish(ns_app, "chat:messages", job)
    failures = run_chat_worker(ns_app)
    assert len(failures) == 1 and "answers is not one of chat" in str(list(failures.values())[0])
    assert said(ns_app, pair, "Look what you said") is None


def test_a_deleted_original_leaves_its_replies_quoting_nothing_of_it(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    send(alice, "My bank PIN is 4321", headers=HTMX)
    run_chat_worker(ns_app)
    original = said(ns_app, pair, "My bank PIN is 4321")
    send(bob, "Delete that!", headers=HTMX, reply_to=original["client_id"])
    run_chat_worker(ns_app)
    deleted = alice.post(
        f"{pair.url}/messages/{original['client_id']}/delete", data={"csrf_token": alice.token}, headers=HTMX
    )
    assert deleted.status_code < 400
    run_chat_worker(ns_app)
    for reader in (alice, bob):
        page = reader.get(pair.url).get_data(as_text=True)
        assert "4321" not in page
        assert '<span class="quote-text" dir="auto">Message deleted</span>' in page
    with ns_app.app_context():
        plan = db().messages.find({"reply_to.client_id": original["client_id"], "chat_id": pair.id}).explain()
    assert "COLLSCAN" not in str(plan["queryPlanner"]["winningPlan"])
