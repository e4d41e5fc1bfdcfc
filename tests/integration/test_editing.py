"""Editing and deleting your own messages (app/chats/editing.py, actions.change_message,
sending/change.py and sending/changing.py): the views queue a change on chat:messages, the
chat worker applies it once and in order, and pushes it in place to both people. In process,
with pushes captured; real RabbitMQ, SecantusDB and Redis."""

import io
import os
import re
import uuid
from datetime import datetime, timedelta

from app.broker.consumer import Reject, Retry
from app.chats.sending.change import Change
from app.connections import db
from tests.support.people import FROM_HERE, HTMX, image_bytes, say, send
from tests.support.queues import delivery, publish, queued_jobs, run_chat_worker

EDITED = '">Edited</summary>'


def messages_of(app, pair):
    with app.app_context():
        return list(db().messages.find({"chat_id": pair.id}).sort("seq", 1))


def chat_of(app, pair):
    with app.app_context():
        return db().chats.find_one({"_id": pair.id})


def sent(app, pair, client, text):
    """`client` says `text` and the worker delivers it: the saved message."""
    say(client, text)
    assert run_chat_worker(app) == {}
    return messages_of(app, pair)[-1]


def edit(client, pair, message, text, headers=HTMX, edit_id=None):
    url = f"{pair.url}/messages/{message['client_id']}/edit"
    data = {"text": text, "client_id": edit_id or uuid.uuid4().hex, "csrf_token": client.token}
    return client.post(url, data=data, headers=headers)


def delete(client, pair, message, headers=HTMX):
    url = f"{pair.url}/messages/{message['client_id']}/delete"
    return client.post(url, data={"csrf_token": client.token}, headers=headers)


def test_an_edit_is_queued_then_shown_edited_to_both_in_place_without_an_announcement(pair, ns_app, pushes):
    alice, bob = pair.alice, pair.bob
    message = sent(ns_app, pair, alice, "See you at 5")
    pushes.clear()
    assert edit(alice, pair, message, "  See you at 6  ").status_code == 204
    [job] = queued_jobs(ns_app, "chat:messages")
    assert set(job) == {"kind", "client_id", "chat_id", "sender_id", "edit_id", "text", "at", "request_id"}
    assert (job["kind"], job["client_id"], job["text"]) == ("edit", message["client_id"], "See you at 6")
    publish(ns_app, "chat:messages", job)
    assert run_chat_worker(ns_app) == {}
    [saved] = messages_of(ns_app, pair)
    assert saved["text"] == "See you at 6" and saved["revision"] == 1
    assert [earlier["text"] for earlier in saved["edits"]] == ["See you at 5"]
    for person in (alice, bob):
        pushed = pushes.to(person.user["_id"])
        assert f'id="m-{message["client_id"]}"' in pushed and 'hx-swap="upsert"' in pushed
        assert "See you at 6" in pushed and EDITED in pushed and "See you at 5" in pushed  # the earlier version too
        assert 'data-version="4"' in pushed or 'data-version="5"' in pushed  # a revision on: the page takes it
        assert "#announcements-" not in pushed and "New message from" not in pushed  # not a new message
    assert "You: See you at 6" in pushes.to(alice.user["_id"])  # the Chats preview
    page = bob.get(bob.chat_url, headers=FROM_HERE).get_data(as_text=True)
    assert "See you at 6" in page and EDITED in page
    assert f'id="edit-{message["client_id"]}"' not in page  # Bob's view: no Edit or Delete on Alice's message
    assert f'id="edit-{message["client_id"]}"' in alice.get(alice.chat_url).get_data(as_text=True)


def test_a_redelivered_or_doubled_edit_changes_nothing_twice_and_a_late_older_one_nothing(pair, ns_app, pushes):
    alice = pair.alice
    message = sent(ns_app, pair, alice, "one")
    edit_id = uuid.uuid4().hex
    assert edit(alice, pair, message, "two", edit_id=edit_id).status_code == 204
    assert edit(alice, pair, message, "two", edit_id=edit_id).status_code == 204  # a double submit...
    [first] = queued_jobs(ns_app, "chat:messages")  # ...queued once
    def seconds_on(seconds):
        return (datetime.fromisoformat(first["at"]) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")

    again = {**first, "at": seconds_on(2)}  # and were it queued twice, later
    from workers import chat

    later = {**first, "edit_id": uuid.uuid4().hex, "text": "three", "at": seconds_on(1)}
    with ns_app.test_request_context():
        assert chat.handle([delivery(first), delivery(first, redelivered=True, tag=2)]) == {}
        assert chat.handle([delivery(later)]) == {}
        assert chat.handle([delivery(again, redelivered=True)]) == {}  # the first edit again, after "three"
    [saved] = messages_of(ns_app, pair)
    assert saved["text"] == "three" and saved["revision"] == 2
    assert [earlier["text"] for earlier in saved["edits"]] == ["one", "two"]
    older = {**first, "edit_id": uuid.uuid4().hex, "text": "older", "at": "2000-01-01T00:00:00.000+00:00"}
    with ns_app.test_request_context():
        assert chat.handle([delivery(older)]) == {}
    assert messages_of(ns_app, pair)[0]["text"] == "three"


def test_an_edit_of_a_message_still_on_its_way_is_applied_after_its_send(pair, ns_app):
    alice = pair.alice
    say(alice, "draft")  # queued, not delivered yet
    [send_job] = queued_jobs(ns_app, "chat:messages")
    message = {"client_id": send_job["client_id"]}
    assert edit(alice, pair, message, "final").status_code == 204  # accepted: the send is pending
    [edit_job] = queued_jobs(ns_app, "chat:messages")
    from workers import chat

    with ns_app.test_request_context():
        # Another worker holds the send: the edit waits (tried again later), it is not lost.
        [(_, failure)] = chat.handle([delivery(edit_job)]).items()
        assert isinstance(failure, Retry)
        # Both in one batch, as the queue hands them out: the send first, then the edit.
        assert chat.handle([delivery(send_job), delivery(edit_job, tag=2)]) == {}
    [saved] = messages_of(ns_app, pair)
    assert saved["text"] == "final" and [earlier["text"] for earlier in saved["edits"]] == ["draft"]


def test_a_change_to_a_message_that_never_was_is_dead_lettered_with_its_reason(pair, ns_app):
    change = Change.new("delete", uuid.uuid4().hex, pair.id, pair.alice.user["_id"])
    publish(ns_app, "chat:messages", change.fields(), b"{\"kind\": \"rename\"}")
    failures = sorted(str(failure) for failure in run_chat_worker(ns_app).values() if isinstance(failure, Reject))
    assert len(failures) == 2
    assert failures[0].startswith("kind is not one of edit, delete") and failures[1].startswith("there is no message")


def test_only_the_author_can_edit_or_delete_a_message(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    message = sent(ns_app, pair, alice, "mine")
    for response in (edit(bob, pair, message, "hijacked"), delete(bob, pair, message)):
        assert response.status_code == 403
        assert "You can edit or delete only your own messages." in response.get_data(as_text=True)
    nobody = {"client_id": uuid.uuid4().hex}
    assert edit(alice, pair, nobody, "x").status_code == 404
    assert queued_jobs(ns_app, "chat:messages") == []
    assert bob.get(f"{pair.url}/messages/{message['client_id']}/delete").status_code == 303  # no confirm page for Bob
    assert messages_of(ns_app, pair)[0]["text"] == "mine"


def test_edits_close_24_hours_after_sending_but_a_delete_still_works(pair, ns_app, clock):
    alice = pair.alice
    message = sent(ns_app, pair, alice, "early")
    clock.advance(hours=23, minutes=59)
    assert f'id="edit-{message["client_id"]}"' in alice.get(alice.chat_url).get_data(as_text=True)
    clock.advance(minutes=1)
    response = edit(alice, pair, message, "late")
    assert response.status_code == 403
    assert "Messages can be edited for 24 hours after they are sent." in response.get_data(as_text=True)
    page = alice.get(alice.chat_url).get_data(as_text=True)
    assert f'id="edit-{message["client_id"]}"' not in page and f'id="delete-{message["client_id"]}"' in page
    too_late = alice.get(f"{pair.url}/messages/{message['client_id']}/edit", follow_redirects=True)
    assert "Messages can be edited for 24 hours after they are sent." in too_late.get_data(as_text=True)
    # An edit accepted in time and delivered late still counts (the window is judged at acceptance).
    late = Change.new("edit", message["client_id"], pair.id, alice.user["_id"], "late", "a" * 32).fields()
    publish(ns_app, "chat:messages", late)
    assert run_chat_worker(ns_app) == {}
    assert messages_of(ns_app, pair)[0]["text"] == "early"  # its `at` is past the window: not applied
    assert delete(alice, pair, message).status_code == 204
    assert run_chat_worker(ns_app) == {}
    assert messages_of(ns_app, pair)[0]["deleted_at"] is not None


def stored_files(app, pair):
    folder = os.path.join(app.config["UPLOAD_DIR"], str(pair.id))
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_a_delete_removes_the_image_file_and_leaves_message_deleted_for_both(pair, ns_app, pushes):
    alice, bob = pair.alice, pair.bob
    upload = (io.BytesIO(image_bytes(size=(900, 600))), "map.png")
    response = send(alice, "the plan", headers=HTMX, alt="A map", image=upload)
    assert response.status_code == 200
    assert run_chat_worker(ns_app) == {}
    [message] = messages_of(ns_app, pair)
    assert len(stored_files(ns_app, pair)) == 2  # the image and its thumbnail
    assert edit(alice, pair, message, "the old plan").status_code == 204
    assert run_chat_worker(ns_app) == {}
    pushes.clear()
    assert delete(alice, pair, message).status_code == 204
    assert run_chat_worker(ns_app) == {}
    assert stored_files(ns_app, pair) == []
    [gone] = messages_of(ns_app, pair)
    assert (gone["text"], gone["image"], gone["edits"]) == ("", None, [])
    for person in (alice, bob):
        pushed = pushes.to(person.user["_id"])
        assert "Message deleted" in pushed and "plan" not in pushed and "A map" not in pushed
        assert "#announcements-" not in pushed
        page = person.get(person.chat_url).get_data(as_text=True)
        assert "Message deleted" in page and "plan" not in page and EDITED not in page
    assert "You: Message deleted" in pushes.to(alice.user["_id"])
    assert delete(alice, pair, message).status_code == 409  # deleted already


def test_deleting_an_unread_message_takes_it_off_the_unread_count_and_the_preview(pair, ns_app, pushes):
    alice, bob = pair.alice, pair.bob
    sent(ns_app, pair, alice, "first")
    second = sent(ns_app, pair, alice, "second, by mistake")
    assert chat_of(ns_app, pair)["unread"][str(bob.user["_id"])] == 2
    pushes.clear()
    assert delete(alice, pair, second).status_code == 204
    [job] = queued_jobs(ns_app, "chat:messages")
    publish(ns_app, "chat:messages", job)
    assert run_chat_worker(ns_app) == {}
    chat = chat_of(ns_app, pair)
    assert chat["unread"][str(bob.user["_id"])] == 1
    assert chat["latest_message"]["deleted"] and chat["latest_message"]["text"] == ""
    to_bob = pushes.to(bob.user["_id"])
    assert re.search(r'chat-unread">1 unread<', to_bob) and "Message deleted" in to_bob
    from workers import chat as worker

    with ns_app.test_request_context():  # redelivered: counted afresh, not taken off twice
        assert worker.handle([delivery(job, redelivered=True)]) == {}
    assert chat_of(ns_app, pair)["unread"][str(bob.user["_id"])] == 1
    home = bob.get("/").get_data(as_text=True)
    assert "Message deleted" in home and "by mistake" not in home


def test_no_edit_crosses_a_block(pair, ns_app):
    alice, bob = pair.alice, pair.bob
    message = sent(ns_app, pair, alice, "before")
    assert edit(alice, pair, message, "queued before the block").status_code == 204
    assert bob.post(f"{pair.url}/block", data={"csrf_token": bob.token}).status_code == 303
    response = edit(alice, pair, message, "after")
    assert response.status_code == 403 and "is not taking messages from you" in response.get_data(as_text=True)
    assert run_chat_worker(ns_app) == {}  # the one queued before the block: not applied
    assert messages_of(ns_app, pair)[0]["text"] == "before"


def test_without_javascript_edit_opens_the_composer_and_delete_asks_first(pair, ns_app):
    alice = pair.alice
    message = sent(ns_app, pair, alice, "typo heer")
    edit_url = f"{pair.url}/messages/{message['client_id']}/edit"
    page = alice.get(edit_url).get_data(as_text=True)
    assert f'action="{edit_url}"' in page and ">typo heer</textarea>" in page
    assert ">Save</button>" in page and "Cancel edit" in page and "Editing your message" in page
    response = edit(alice, pair, message, "", headers={})
    assert response.status_code == 422 and "Write a message or attach an image." in response.get_data(as_text=True)
    assert f'action="{edit_url}"' in response.get_data(as_text=True)  # still editing, the input kept
    response = edit(alice, pair, message, "typo here", headers={})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#m-{message['client_id']}")
    assert run_chat_worker(ns_app) == {}
    confirm = alice.get(f"{pair.url}/messages/{message['client_id']}/delete").get_data(as_text=True)
    assert "Delete this message?" in confirm and "typo here" in confirm
    response = delete(alice, pair, message, headers={})
    assert response.status_code == 303
    assert run_chat_worker(ns_app) == {}
    assert "Message deleted" in alice.get(alice.chat_url).get_data(as_text=True)


def test_without_the_record_of_recent_sends_the_message_is_read_from_mongodb(pair, ns_app):
    from app.chats.sending import pending
    from app.connections import redis_client

    alice = pair.alice
    message = sent(ns_app, pair, alice, "kept")
    with ns_app.app_context():
        redis_client().delete(pending.clients_key(alice.user["_id"]))  # lost with Redis, or sent long ago
    assert edit(alice, pair, message, "kept, and edited").status_code == 204
    assert edit(alice, pair, message, "kept, and edited").status_code == 204  # the same text: nothing queued
    assert delete(alice, pair, {"client_id": "f" * 32}).status_code == 404
    assert run_chat_worker(ns_app) == {}
    assert messages_of(ns_app, pair)[0]["text"] == "kept, and edited"


def test_the_chats_preview_takes_only_a_later_revision_of_its_latest_message(pair, ns_app):
    from app.chats import present
    from app.data import chats

    alice = pair.alice
    message = sent(ns_app, pair, alice, "v0")
    with ns_app.app_context():  # a summary written before revisions were counted has none
        db().chats.update_one({"_id": pair.id}, {"$unset": {"latest_message.revision": ""}})
    assert edit(alice, pair, message, "v1").status_code == 204
    assert run_chat_worker(ns_app) == {}
    assert chat_of(ns_app, pair)["latest_message"]["text"] == "v1"
    assert edit(alice, pair, message, "v2").status_code == 204
    assert run_chat_worker(ns_app) == {}
    [doc] = messages_of(ns_app, pair)
    stale = present.latest_message({**doc, "text": "v1", "revision": 1})
    with ns_app.app_context():
        chats.message_changed(pair.id, stale)  # an earlier edit's update, arriving late
    assert chat_of(ns_app, pair)["latest_message"]["text"] == "v2"
    sent(ns_app, pair, pair.bob, "a later message")
    with ns_app.app_context():
        chats.message_changed(pair.id, present.latest_message({**doc, "revision": 3}))
    assert chat_of(ns_app, pair)["latest_message"]["text"] == "a later message"
