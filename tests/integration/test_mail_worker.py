"""The mail worker against real RabbitMQ and a real SMTP server: what it
does with a job through its consumer in this process, and as its own
process where the process is the point (end to end, a crash, a retry, the
two queues side by side)."""

import asyncio
import json
import mailbox
import re
import time
import uuid
from email.message import EmailMessage

import pika
import pytest

from app.broker import PublishError, declare, retry_queue
from app.broker.consumer import RETRY_FOR, Consumer, Delivery, Retry
from app.broker.publisher import Publisher
from tests.support.people import csrf_token, unique_email
from tests.support.queues import code_job, consume_mail, dead_letters, missed_job, name_of, publish, queue_depth
from tests.support.services import Inbox, free_port, wait_for
from tests.support.settings import PRODUCTION

# The worker suite: each test runs on classic and on quorum queues.
pytestmark = pytest.mark.each_queue_type


def test_a_code_goes_from_the_form_through_the_queue_and_worker_to_smtp(ns_app, namespace, processes, inbox):
    processes.env.update(namespace)
    processes.worker("mail")
    client = ns_app.test_client()
    email = unique_email("dana")
    assert client.post("/signin", data={"email": email, "csrf_token": csrf_token(client)}).status_code == 303
    message = inbox.wait(email)
    assert message["Subject"] == "Your Parley sign-in code"
    assert message["From"] == "Parley <no-reply@parley.test>"
    body = message.get_body(("plain",)).get_content()
    code = body.split("code is ")[1][:6]
    assert code.isdigit()
    assert client.post("/verify", data={"code": code, "csrf_token": csrf_token(client, "/verify")}).status_code == 303
    assert queue_depth(ns_app, "send-otp") == 0


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "not JSON"),
        (b'["a", "list"]', "not a JSON object"),
        (json.dumps({"to": "x@example.com", "template": "signin_code"}).encode(), "values is not an object"),
        (json.dumps(code_job("nobody")).encode(), "bad address 'nobody'"),
        # Issue 30: a forged job once mailed the HTML it carried. Only a template and its values are taken.
        (
            json.dumps({**code_job("x@example.com"), "html": "<a href=//evil.example>Sign in</a>"}).encode(),
            "unknown field 'html'",
        ),
        (
            json.dumps({"to": "x@example.com", "subject": "Hi", "body": "Hello"}).encode(),
            "unknown field 'body', 'subject'",
        ),
        (json.dumps({**code_job("x@example.com"), "template": "anything"}).encode(), "no template 'anything'"),
        (
            json.dumps({**code_job("x@example.com"), "template": "missed_messages"}).encode(),
            "no template 'missed_messages' on send-otp",
        ),
        (
            json.dumps({**code_job("x@example.com"), "values": {"code": "<b>1</b>", "minutes": 5}}).encode(),
            "signin_code: code is not six or eight digits",
        ),
    ],
)
def test_a_malformed_job_is_dead_lettered_with_its_reason_and_the_queue_keeps_flowing(ns_app, inbox, body, reason):
    email = unique_email()
    publish(ns_app, "send-otp", body, code_job(email))
    assert consume_mail(ns_app, "send-otp") == 2
    assert inbox.wait(email)["Subject"] == "Your Parley sign-in code"
    [(headers, parked)] = dead_letters(ns_app, "send-otp")
    assert parked == body
    assert headers["x-parley-reason"].startswith(reason)
    assert queue_depth(ns_app, "send-otp") == 0
    assert [message["To"] for message in inbox.messages if message["To"] in (email, "x@example.com")] == [email]


class SlowInbox(Inbox):
    """An SMTP server that takes `seconds` over each email to a slow address."""

    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__()

    async def handle_DATA(self, server, session, envelope):
        if any(address.startswith("slow-") for address in envelope.rcpt_tos):
            await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


def test_a_code_never_waits_behind_missed_message_emails(ns_app, namespace, processes):
    """50 missed-message emails, each taking the mail server 0.2 s, are 10 s of
    work for the mail worker; a code asked for behind them comes at once."""
    inbox = SlowInbox(0.2)
    try:
        backlog = [missed_job(unique_email("slow"), f"backlog-{uuid.uuid4().hex}") for _ in range(50)]
        publish(ns_app, "send-mail", *backlog)
        processes.env.update(namespace, MAIL_PORT=str(inbox.port))
        processes.worker("mail")
        wait_for(lambda: inbox.messages, 10, what="the backlog to start")
        email = unique_email("code")
        asked_at = time.time()
        publish(ns_app, "send-otp", code_job(email))
        inbox.wait(email, timeout=10)
        arrived_at = inbox.arrived_at[[m["To"] for m in inbox.messages].index(email)]
        assert arrived_at - asked_at < 2
        assert queue_depth(ns_app, "send-mail") > 0  # the backlog was still there
    finally:
        inbox.stop()


def test_an_email_queued_twice_is_sent_once(ns_app, inbox):
    email = unique_email("bob")  # keys of the test's own: the run's database keeps what was sent
    first, second = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    publish(ns_app, "send-mail", missed_job(email, first, "First"), missed_job(email, first, "First"))
    publish(ns_app, "send-mail", missed_job(email, second, "Second"))
    assert consume_mail(ns_app, "send-mail") == 3
    assert queue_depth(ns_app, "send-mail") == 0
    assert len(inbox.to(email)) == 2  # each sent before the consumer returned
    assert [message["Message-ID"] for message in inbox.to(email)] == [
        f"<{first}@parley.test>",
        f"<{second}@parley.test>",
    ]


def test_a_mail_worker_killed_before_the_server_has_the_email_sends_it_when_started_again(
    ns_app, namespace, processes, inbox
):
    email = unique_email("bob")
    publish(ns_app, "send-mail", missed_job(email, f"killed-{uuid.uuid4().hex}"))
    processes.env.update(namespace)
    dying = processes.worker("mail", env={"PARLEY_KILL_AT": "mailer:sending"})
    wait_for(lambda: not dying.alive(), 10, what="the worker to die at the step")
    processes.worker("mail")
    inbox.wait(email)
    time.sleep(0.5)
    assert len(inbox.to(email)) == 1 and dead_letters(ns_app, "send-mail") == []


def test_an_smtp_outage_is_retried_not_dropped(ns_app, namespace, processes):
    port = free_port()  # nothing listens here yet
    processes.env.update(namespace, MAIL_PORT=str(port))
    worker = processes.worker("mail")
    email = unique_email()
    publish(ns_app, "send-otp", code_job(email, "111111"))
    wait_for(lambda: "trying it again in 2s" in worker.output(), 10, what="a retry")
    late_inbox = Inbox(port)
    try:
        assert late_inbox.code(email, timeout=30) == "111111"
    finally:
        late_inbox.stop()
    assert dead_letters(ns_app, "send-otp") == []


def test_an_address_the_server_cannot_take_now_does_not_hold_up_the_codes_behind_it(ns_app, namespace, processes):
    later, now = unique_email("later"), unique_email("now")
    inbox = Inbox(not_now={later})
    try:
        processes.env.update(namespace, MAIL_PORT=str(inbox.port))
        publish(ns_app, "send-otp", code_job(later, "111111"), code_job(now, "222222"))
        worker = processes.worker("mail")
        assert inbox.code(now, timeout=3) == "222222"  # not after the first one's retry
        wait_for(lambda: "trying it again in 2s" in worker.output(), 5, what="the retry of the first")
        inbox.not_now.clear()
        assert inbox.code(later, timeout=15) == "111111"
    finally:
        inbox.stop()


@pytest.mark.parametrize("failing_for, outcome", [(60, "retry"), (RETRY_FOR + 1, "dead letter")])
def test_a_job_that_keeps_failing_is_dead_lettered_with_its_reason_once_the_bound_has_passed(
    ns_app, failing_for, outcome
):
    """The consumer's own decision, on a real queue: try again behind a delay, or give up."""
    headers = {"x-parley-attempts": 7, "x-parley-first-failed": int(time.time()) - failing_for}
    name = name_of(ns_app, "send-otp")
    connection = pika.BlockingConnection(pika.URLParameters(ns_app.config["RABBITMQ_URL"]))
    channel = connection.channel()
    channel.confirm_delivery()
    declare(channel, name, ns_app.config["QUEUE_TYPE"])
    channel.basic_publish("", name, b'{"to": "x@example.com"}', pika.BasicProperties(headers=headers))
    method, properties, body = channel.basic_get(name)
    failing = Consumer(ns_app, "send-otp", lambda batch: {d: Retry("SMTP: 421 down") for d in batch}, prefetch=1)
    with ns_app.app_context():
        failing.work(channel, [Delivery(method, properties, body)])
    parked = dead_letters(ns_app, "send-otp")
    if outcome == "dead letter":
        [(parked_headers, _)] = parked
        assert parked_headers["x-parley-reason"].startswith("gave up after 8 tries over ")
        assert parked_headers["x-parley-reason"].endswith("SMTP: 421 down")
    else:
        assert parked == []
        method, properties, _ = channel.basic_get(retry_queue(name), auto_ack=True)
        assert properties.headers["x-parley-attempts"] == 8 and properties.expiration == "15000"
    assert queue_depth(ns_app, "send-otp") == 0
    connection.close()


def test_a_broker_restart_midway_loses_no_email(namespace, processes, inbox, private_rabbit):
    processes.env.update(namespace, RABBITMQ_URL=private_rabbit.url)
    queue = namespace["QUEUE_PREFIX"] + "send-otp"
    publisher = Publisher(private_rabbit.url, namespace["QUEUE_TYPE"], confirm_timeout=3)
    addresses = [unique_email(f"r{i}") for i in range(30)]

    def send(address):
        """What a person does when told "try again": try again until it is confirmed."""
        for _ in range(100):
            try:
                publisher.publish(queue, code_job(address))
                return
            except PublishError:
                time.sleep(0.2)
        raise AssertionError(f"could not publish for {address}")

    for address in addresses[:10]:  # queued while no worker runs
        send(address)
    worker = processes.worker("mail")
    for address in addresses[10:20]:
        send(address)
    private_rabbit.restart()
    for address in addresses[20:]:
        send(address)
    for address in addresses:
        inbox.wait(address, timeout=60)
    assert worker.alive()
    assert "the jobs wait" in worker.output()


def test_dev_mailbox_shows_what_the_sink_received_newest_first(base_env, tmp_path, monkeypatch):
    from app import create_app

    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for n, subject in enumerate(["First", "Second"]):
        message = EmailMessage()
        message["Subject"], message["To"] = subject, "eve@example.com"
        message["Date"] = f"Tue, 24 Nov 2026 10:0{n}:00 +0000"
        message.set_content(f"Your Parley sign-in code is 00000{n}.")
        box.add(message)
    monkeypatch.setenv("APP_ENV", "development")
    page = create_app({"DEV_MAILBOX": str(tmp_path / "mail")}).test_client().get("/dev/mailbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Second") < html.index("First")
    assert "Your Parley sign-in code is 000001." in html


def test_dev_mailbox_is_not_found_in_production(base_env, monkeypatch):
    from app import create_app

    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert create_app().test_client().get("/dev/mailbox").status_code == 404
    monkeypatch.delenv("APP_ENV")  # unset is production: only an explicit development has it
    assert create_app().test_client().get("/dev/mailbox").status_code == 404
    monkeypatch.setenv("APP_ENV", "test")
    assert create_app().test_client().get("/dev/mailbox").status_code == 404


def test_dev_mailbox_shows_an_email_as_a_mail_client_would(base_env, tmp_path, monkeypatch):
    """The HTML part in a sandboxed frame of its own (no script, framed only
    here), the plain part, and the unsubscribe header."""
    from app import create_app, letters

    monkeypatch.setenv("APP_ENV", "development")
    app = create_app({"DEV_MAILBOX": str(tmp_path / "mail")})
    job = missed_job("bob@example.com", "k1", text="<script>alert(1)</script> Lunch?")
    with letters.for_public_url(app):
        letter = letters.letter_of(job, "send-mail")
        message = letters.message(job["to"], letter, job["values"], job["key"]).as_bytes()
    mailbox.Maildir(tmp_path / "mail", create=True).add(message)
    client = app.test_client()
    page = client.get("/dev/mailbox").get_data(as_text=True)
    assert '<h2 id="mail-1">1 new message from Ada Lovelace</h2>' in page
    assert "Unsubscribe: <code>&lt;http://127.0.0.1:5000/unsubscribe/" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lunch?" in page  # the plain part, escaped
    frame = re.search(r'<iframe class="letter-frame" src="([^"]+)"[^>]*sandbox="[^"]*"', page).group(1)
    html = client.get(frame)
    assert (
        "sandbox" in html.headers["Content-Security-Policy"]
        and "script-src" not in html.headers["Content-Security-Policy"]
    )
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lunch?" in html.get_data(as_text=True)
    assert client.get("/dev/mailbox/no-such-key/html").status_code == 404
