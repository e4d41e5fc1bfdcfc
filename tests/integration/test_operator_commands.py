"""The operator's commands: dead letters listed, shown, replayed and dropped;
a person's data exported and deleted. Each refuses a wrong name clearly."""

import io
import json
import os

from app.connections import db
from tests.support.people import HTMX, image_bytes, say, send
from tests.support.queues import publish, queue_depth, run_chat_worker
from tests.support.services import wait_for


def flask(app, *arguments):
    return app.test_cli_runner().invoke(args=list(arguments), catch_exceptions=False)


def dead_letter_ids(app):
    listed = flask(app, "dead-letters", "list").output.splitlines()
    return {line.split()[0]: line for line in listed[:-1]}


def test_dead_letters_are_listed_shown_replayed_and_dropped(ns_app, namespace, processes):
    processes.env.update(namespace)
    publish(ns_app, "chat:messages", b"{not json", b'{"client_id": "short"}')
    publish(ns_app, "send-otp", b'["not", "an", "object"]')
    chat_worker, mail_worker = processes.worker("chat"), processes.worker("mail")
    wait_for(lambda: len(dead_letter_ids(ns_app)) == 3, 15, what="three dead letters")
    chat_worker.stop()
    mail_worker.stop()

    letters = dead_letter_ids(ns_app)
    assert flask(ns_app, "dead-letters", "list").output.splitlines()[-1] == "3 dead letter(s)."
    [not_json] = [letter_id for letter_id, line in letters.items() if line.endswith("not JSON")]
    [short] = [letter_id for letter_id, line in letters.items() if "client_id is not 32 hex digits" in line]
    [mail] = [letter_id for letter_id, line in letters.items() if "send-otp" in line]

    shown = flask(ns_app, "dead-letters", "show", short).output
    assert "client_id is not 32 hex digits" in shown and '"client_id": "short"' in shown
    only_mail = flask(ns_app, "dead-letters", "list", "--queue", "send-otp").output
    assert mail in only_mail and short not in only_mail

    wrong = ns_app.test_cli_runner().invoke(args=["dead-letters", "drop", "ffffffffffff", not_json])
    assert wrong.exit_code == 1 and "No dead letter with id ffffffffffff" in wrong.output
    assert len(dead_letter_ids(ns_app)) == 3  # nothing done when one id is wrong
    assert ns_app.test_cli_runner().invoke(args=["dead-letters", "drop", "--queue", "nowhere"]).exit_code == 2

    assert flask(ns_app, "dead-letters", "replay", short).output.strip() == "Replayed 1 dead letter(s)."
    assert queue_depth(ns_app, "chat:messages") == 1
    assert flask(ns_app, "dead-letters", "drop", not_json, mail).output.strip() == "Dropped 2 dead letter(s)."
    assert dead_letter_ids(ns_app) == {}


def test_a_person_is_exported_then_deleted_and_shows_as_a_deleted_account(pair, ns_app):
    say(pair.alice, "Hello Bob")
    send(pair.alice, "A picture", headers=HTMX, alt="A red square", image=(io.BytesIO(image_bytes()), "a.png"))
    say(pair.bob, "Hi Alice")
    assert run_chat_worker(ns_app) == {}
    email = pair.alice.user["email"]
    folder = os.path.join(ns_app.config["UPLOAD_DIR"], str(pair.id))
    assert len(os.listdir(folder)) == 1

    exported = json.loads(flask(ns_app, "users", "export", email, "--output", "-").output)
    assert exported["profile"]["email"] == email
    [chat] = exported["chats"]
    assert chat["with"] == pair.bob.user["name"]
    assert [(m["from"], m["text"]) for m in chat["messages"]] == [
        ("you", "Hello Bob"),
        ("you", "A picture"),
        (pair.bob.user["name"], "Hi Alice"),
    ]
    image = chat["messages"][1]["image"]
    assert image["alt"] == "A red square" and image["url"].startswith(f"/chats/{pair.id}/images/")

    missing = ns_app.test_cli_runner().invoke(args=["users", "delete", "nobody@example.com", "--yes"])
    assert missing.exit_code == 1 and "No account has the email address 'nobody@example.com'" in missing.output
    assert flask(ns_app, "users", "delete", email, "--yes").output.strip() == f"Deleted {email}."

    with ns_app.app_context():
        assert db().users.find_one({"email": email}) is None
        left = list(db().messages.find({"chat_id": pair.id}))
        chat = db().chats.find_one({"_id": pair.id})
    assert [m["text"] for m in left] == ["Hi Alice"]
    assert chat["latest_message"]["text"] == "Hi Alice" and chat["unread"] == {str(pair.bob.user["_id"]): 0}
    assert os.listdir(folder) == []
    page = pair.bob.get(pair.url).get_data(as_text=True)
    assert "<h1 id=\"chat-heading\"><bdi>Deleted account</bdi></h1>" in page and "Hello Bob" not in page
    assert "Deleted account" in pair.bob.get("/").get_data(as_text=True)
    assert ns_app.test_cli_runner().invoke(args=["users", "export", email]).exit_code == 1
    signed_out = pair.alice.get("/")  # the session ended with the account
    assert signed_out.status_code == 303 and signed_out.headers["Location"].endswith("/signin")


def test_deleting_a_person_leaves_none_of_their_keys_in_redis(pair, ns_app, monkeypatch):
    """Each part that keeps something of a person in Redis forgets it: pending
    and unconfirmed sends, viewing, being about, contacts, an expected page,
    pushes kept for replay, sessions. Read by scanning the test's key prefix."""
    from app import broker
    from app.chats import contacts
    from app.chats.sending import pending
    from app.connections import redis_client

    alice, bob = pair.alice, pair.bob
    alice_id = str(alice.user["_id"])
    say(bob, "Hello Alice")
    assert run_chat_worker(ns_app) == {}  # pushed to Alice's stream
    alice.get(alice.chat_url)  # about, and her page expected
    signal = {"page": "p1", "visible": "1", "csrf_token": alice.token}
    assert alice.post(f"{alice.chat_url}/viewing", data=signal, headers=HTMX).status_code == 204
    say(alice, "On its way")  # pending: no worker runs

    def maybe_lost(name, payload):
        raise broker.PublishError("connection lost", maybe_queued=True)

    monkeypatch.setattr(pending.broker, "publish", maybe_lost)
    assert send(alice, "Maybe lost", headers=HTMX).status_code == 503  # unconfirmed
    monkeypatch.undo()
    with ns_app.app_context():
        contacts.of(alice.user["_id"])
        prefix = ns_app.config["KEY_PREFIX"]

        def hers():
            return sorted(name for name in redis_client().scan_iter(prefix + "*", count=1000) if alice_id in name)

        kept = hers()
        kinds = ("pending", "unconfirmed", "viewing", "active", "contacts", "expected", "stream", "session")
        assert all(any(kind in name for name in kept) for kind in kinds), kept
        flask(ns_app, "users", "delete", alice.user["email"], "--yes")
        assert hers() == []
        assert db().sessions.find_one({"user_id": alice.user["_id"]}) is None


def test_release_declares_the_queues_and_refuses_a_queue_of_another_type(namespace):
    from app import create_app

    names = ("KEY_PREFIX", "QUEUE_PREFIX")
    classic = create_app({**{name: namespace[name] for name in names}, "QUEUE_TYPE": "classic"})
    assert "classic queues and indexes are in place" in flask(classic, "release").output
    quorum = create_app({**{name: namespace[name] for name in names}, "QUEUE_TYPE": "quorum"})
    refused = quorum.test_cli_runner().invoke(args=["release"])
    assert refused.exit_code == 1
    [line] = refused.output.strip().splitlines()
    assert line.startswith("Parley cannot start: PRECONDITION_FAILED - inequivalent arg 'x-queue-type'")
    assert line.endswith("(see README, 'Moving to quorum queues')")


def test_a_forged_image_reference_deletes_nothing_outside_uploads_and_crashes_nothing(pair, ns_app):
    """Issue 30, finding 8: a replayed job whose image ref was file:../canary.txt
    made `users delete` delete a file outside UPLOAD_DIR; an image without a
    ref made it crash (KeyError)."""
    from app.chats.sending.job import Job
    from tests.support.images import stored_image

    canary = os.path.join(os.path.dirname(ns_app.config["UPLOAD_DIR"]), "canary.txt")
    with open(canary, "w") as file:
        file.write("still here")
    alice = pair.alice.user
    forged = {**stored_image(pair.id), "ref": "file:../canary.txt"}
    with ns_app.app_context():
        job = Job.new("f" * 32, pair.id, alice["_id"], "", forged)
    publish(ns_app, "chat:messages", job.fields())
    failures = run_chat_worker(ns_app)
    assert [str(reason) for reason in failures.values()] == ["image ref is not one of this chat's stored images"]
    with ns_app.app_context():  # stored before jobs were checked for it
        old = {"chat_id": pair.id, "sender_id": alice["_id"], "receiver_id": pair.bob.user["_id"], "text": ""}
        db().messages.insert_many(
            [
                {**old, "client_id": "e" * 32, "seq": 1, "image": forged},
                {**old, "client_id": "d" * 32, "seq": 2, "image": {"url": "/x.png", "width": 1, "height": 1}},
            ]
        )
    deleted = flask(ns_app, "users", "delete", alice["email"], "--yes")
    assert deleted.exit_code == 0 and deleted.output.strip() == f"Deleted {alice['email']}."
    with open(canary) as file:
        assert file.read() == "still here"


def test_operator_output_shows_control_characters_as_escapes(pair, ns_app):
    """Issue 30, finding 8: `dead-letters list` printed a forged reason's terminal escape codes raw."""
    import pika

    from app import broker
    from tests.support.queues import name_of

    name = broker.dead_letter_queue(name_of(ns_app, "chat:messages"))
    connection = pika.BlockingConnection(pika.URLParameters(ns_app.config["RABBITMQ_URL"]))
    channel = connection.channel()
    channel.queue_declare(name, durable=True, arguments={"x-queue-type": ns_app.config["QUEUE_TYPE"]})
    reason = "\x1b[2J\x1b]0;owned\x07bad\u202eevil\x9b31m"
    body = json.dumps({"text": "\x1b[31mred\u2028line"}, ensure_ascii=False).encode()
    channel.basic_publish("", name, body, pika.BasicProperties(headers={"x-parley-reason": reason}))
    connection.close()
    listed = flask(ns_app, "dead-letters", "list", "--queue", "chat:messages").output
    [letter_id] = [line.split()[0] for line in listed.splitlines()[:-1]]
    shown = flask(ns_app, "dead-letters", "show", letter_id).output
    for output in (listed, shown):
        assert not any(char in output for char in "\x1b\x07\x9b\u202e\u2028"), repr(output)
    assert r"\x1b[2J\x1b]0;owned\x07bad\u202eevil\x9b31m" in listed
    with ns_app.app_context():
        db().users.update_one({"_id": pair.alice.user["_id"]}, {"$set": {"name": "Ada\x1b[8m"}})
    asked = ns_app.test_cli_runner().invoke(args=["users", "delete", pair.alice.user["email"]], input="n\n")
    assert "Ada\\x1b[8m" in asked.output and "\x1b" not in asked.output
    flask(ns_app, "dead-letters", "drop", letter_id)
