"""The mail worker: sends the sign-in codes queued on `send-otp`."""

import logging
import smtplib
import socket

from email_validator import EmailNotValidError, validate_email
from flask_mail import Message

from app import broker, create_app_or_exit, logs
from app.broker.consumer import Consumer, Reject, Retry, configure_logging, json_object, one_by_one
from app.extensions import mail

SMTP_TIMEOUT = 30  # seconds

log = logging.getLogger(__name__)


def parse(body):
    job = json_object(body)
    for field in ("to", "subject", "body"):
        if not isinstance(job.get(field), str) or not job[field].strip():
            raise Reject(f"missing or empty {field!r}")
    try:
        validate_email(job["to"], check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise Reject(f"bad address {job['to']!r}: {error}") from None
    return job


def send(delivery):
    job = parse(delivery.body)
    message = Message(subject=job["subject"], recipients=[job["to"]], body=job["body"], html=job.get("html"))
    try:
        mail.send(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(code >= 500 for code in codes):  # for good: a 4xx is "not now"
            raise Reject(f"the mail server refused the address: {codes}") from None
        raise Retry(f"SMTP: the mail server cannot take the address now: {codes}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise Retry(f"SMTP: {error!r}") from None


send_each = one_by_one(send)


def send_batch(deliveries):
    """Send what arrived together, and say so in one line (no address, no code)."""
    failures = send_each(deliveries)
    log.info("sent a batch", extra=logs.fields(jobs=len(deliveries), not_sent=len(failures)))
    return failures


def main():
    configure_logging("mail_worker")
    # Flask-Mail opens its SMTP connections with no timeout: a mail server
    # that stops answering would hold this worker for good.
    socket.setdefaulttimeout(SMTP_TIMEOUT)
    Consumer(create_app_or_exit(), broker.SEND_OTP, send_batch, prefetch=10).run()


if __name__ == "__main__":
    main()
