"""The notify worker's loop: claim the checks that fall due, run each (an
email, app/notifications/mail.py; browser notifications, browsers.py), and
put back those that are not due yet. It waits at most a second between
rounds, so a check runs within a second of falling due.

At start, and whenever Redis turns out to have lost or rolled back its data
(the claims' count went back), it finds again in MongoDB whom an email may
be waiting for (chats.unmailed) and makes sure each has a check: the
checks decide from MongoDB alone, so one too many sends nothing.
"""

import logging
import signal
import time

from bson import ObjectId

from app import clock, logs
from app.broker import PublishError
from app.broker.consumer import Backoff
from app.data import chats
from app.notifications import browsers, mail, schedule
from app.outages import is_outage

log = logging.getLogger(__name__)

ROUND = 1.0  # seconds between looks when nothing is due
CLAIM = 50  # checks claimed at once
RETRY_AFTER = 60  # seconds before a check that failed (a bug, not an outage) is run again
RECOVER_BATCH = 500

RUN = {"mail": mail.check, "push": browsers.check}


class Scheduler:
    def __init__(self, app):
        self.app = app
        self.stopping = False
        self.epoch = None  # the claims' count last seen; None: not yet recovered
        self.backoff = Backoff()

    def stop(self, *_):
        self.stopping = True

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("consuming due checks")  # the word the process runners wait for
        while not self.stopping:
            try:
                busy = len(self.round()) == CLAIM
                self.backoff.going_well()
            except Exception as error:
                if not waits_for_a_service(error):
                    raise
                wait = self.backoff.failed()
                log.warning("notify: %r; the checks wait; trying again in %.1fs", error, wait)
                self.sleep(wait)
                continue
            if not busy:
                self.sleep(self.until_next())

    def sleep(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))

    def until_next(self):
        due = schedule.next_due()
        return ROUND if due is None else max(0.0, min(ROUND, due - clock.time()))

    def round(self):
        """Claim and run what is due; returns the checks run."""
        epoch, claimed = schedule.claim(CLAIM)
        if self.epoch is None or epoch <= self.epoch:
            log.info("checks recovered from MongoDB", extra=logs.fields(people=recover()))
            if not claimed:
                epoch, claimed = schedule.claim(CLAIM)
        self.epoch = epoch
        started = time.perf_counter()
        for check in claimed:
            run_check(check)
        if claimed:
            duration = (time.perf_counter() - started) * 1000
            log.info("ran due checks", extra=logs.fields(checks=len(claimed), duration_ms=duration))
        return claimed


def run_check(check):
    """Run one claimed check and give it back (due again when it says)."""
    kind, user_id = schedule.parse(check)
    if kind not in RUN or not ObjectId.is_valid(user_id):
        schedule.finish(check)
        return
    try:
        again_at = RUN[kind](ObjectId(user_id))
    except Exception as error:
        if waits_for_a_service(error):
            raise  # the claim lapses, and the check is run again once the service is back
        log.exception("a %s check failed; trying it again in %ds", kind, RETRY_AFTER)
        again_at = clock.time() + RETRY_AFTER
    schedule.finish(check, again_at)


def waits_for_a_service(error):
    """Redis, MongoDB or RabbitMQ failed (or the broker did not confirm an email): not the check's fault."""
    return is_outage(error) or isinstance(error, PublishError)


def recover():
    """A mail check for everyone an email may be waiting for; returns how many."""
    people = [schedule.check("mail", user_id) for user_id in chats.waiting_for_mail()]
    for start in range(0, len(people), RECOVER_BATCH):
        schedule.add(people[start : start + RECOVER_BATCH])
    return len(people)
