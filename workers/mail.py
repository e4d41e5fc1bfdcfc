"""The mail worker: sends the letters queued on `send-otp` (sign-in codes)
and `send-mail` (missed-message emails). Each queue has a consumer of its
own, in a thread of its own, so a code never waits behind other email."""

import logging
import smtplib
import socket

from email_validator import EmailNotValidError, validate_email

from app import broker, create_app_or_exit, letters, logs
from app.broker.consumer import Consumer, Reject, Retry, configure_logging, json_object, one_by_one, run_side_by_side
from app.data import sent_mail
from app.extensions import mail
from app.faults import step

SMTP_TIMEOUT = 30  # seconds

log = logging.getLogger(__name__)


def parse(body, queue):
    """(address, letter, values, key) of a job; Reject unless it is one of our letters for this queue."""
    job = json_object(body)
    try:
        letter = letters.letter_of(job, queue)
    except letters.Invalid as error:
        raise Reject(str(error)) from None
    if not isinstance(job.get("to"), str) or not job["to"].strip():
        raise Reject("missing or empty 'to'")
    try:
        validate_email(job["to"], check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise Reject(f"bad address {job['to']!r}: {error}") from None
    return job["to"], letter, job["values"], job.get("key")


def send(delivery, queue):
    """Send one job's letter; a keyed job is sent once, however often it was queued."""
    to, letter, values, key = parse(delivery.body, queue)
    if key and not sent_mail.begin(key):
        return  # queued twice: sent already
    step("mailer:sending")
    try:
        mail.send(letters.message(to, letter, values, key))
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(code >= 500 for code in codes):  # for good: a 4xx is "not now"
            raise Reject(f"the mail server refused the address: {codes}") from None
        raise Retry(f"SMTP: the mail server cannot take the address now: {codes}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise Retry(f"SMTP: {error!r}") from None
    step("mailer:sent")
    if key:
        sent_mail.sent(key)


def sender_for(queue):
    """The consumer's handler for `queue`: send what arrived together, and
    say so in one line (no address, no code)."""
    send_each = one_by_one(lambda delivery: send(delivery, queue))

    def send_batch(deliveries):
        failures = send_each(deliveries)
        log.info("sent a batch", extra=logs.fields(queue=queue, jobs=len(deliveries), not_sent=len(failures)))
        return failures

    return send_batch


def main():
    configure_logging("mail_worker")
    # Flask-Mail opens its SMTP connections with no timeout: a mail server
    # that stops answering would hold this worker for good.
    socket.setdefaulttimeout(SMTP_TIMEOUT)
    app = create_app_or_exit()
    run_side_by_side(
        [Consumer(app, queue, sender_for(queue), prefetch=10) for queue in (broker.SEND_OTP, broker.SEND_MAIL)],
        context=lambda: letters.for_public_url(app),  # the links in the letters
    )


if __name__ == "__main__":
    main()
