"""The missed-mail fault: the workers that send missed-message emails killed
at each step of their work, and Redis losing its data while checks wait,
and every email that fell due sent exactly once.

One deployment (chaos/rig.py, with the email's delay shortened) and one
person away per step, each sent three messages by someone else. For each
step in turn, the worker that does it is started again told to die there
(PARLEY_KILL_AT, app/faults.py): the notify worker at each step of a check
(app/notifications/mail.py), the mail worker just before handing the email
to the SMTP server and just after the server took it. Once it has died, it
is started again as usual, and the step's email is waited for before the
next step (so no step's worker dies on another person's check). A claim the
notify worker held when it died is the claimer's for schedule.LEASE
seconds, so the emails of those steps come that much after they fell due.
Then every person's inbox is counted.
"""

import time
import uuid

from bench import seed
from chaos.rig import Rig

DELAY = 2  # seconds: MISSED_MESSAGE_DELAY here
TEXTS = ("Are you there?", "I have the numbers.", "Call me when you can.")
STEPS = (
    ("notify", "mail:read", "the notify worker, having claimed a check, before it reads what is unseen"),
    ("notify", "mail:pending", "the notify worker, the email kept as pending, before it is queued"),
    ("notify", "mail:queued", "the notify worker, the email queued, before its messages are marked mailed"),
    ("notify", "mail:marked", "the notify worker, the messages marked, before the pending email is cleared"),
    ("notify", "mail:done", "the notify worker, the check done, before it gives the check back"),
    ("mail", "mailer:sending", "the mail worker, the email noted as being sent, before the SMTP server has it"),
    ("mail", "mailer:sent", "the mail worker, after the SMTP server took the email, before it notes it sent"),
)
REDIS_LOST = ("redis", "redis:restart", "Redis restarted (its data lost) while the check waits")
LEASE_AND_MORE = 90  # seconds to wait for the last emails: a lapsed claim (60 s), the delay, the rounds
DIE_WITHIN = 30


def scenario(rabbitmq, log_dir):
    rig = Rig("missed-mail-kill", rabbitmq, log_dir, env={"MISSED_MESSAGE_DELAY": str(DELAY)})
    try:
        app = rig.system.app()
        steps = [REDIS_LOST, *STEPS]  # Redis first: its recovery would find the later steps' lapsed claims too
        everyone = seed.people(app, 2 * len(steps), f"away-{uuid.uuid4().hex[:6]}")
        pairs = list(zip(everyone[::2], everyone[1::2]))
        chats = seed.chats_between(app, pairs)
        started, rows = time.time(), []
        for (kind, step, title), (sender, away), chat in zip(steps, pairs, chats):
            row = {"step": step, "what": title, "to": away["email"]}
            if kind == "redis":
                row["sent_at"] = send(app, chat, sender)
                time.sleep(0.5)  # delivered: the check waits in Redis
                rig.redis.stop()
                rig.redis.start()
                row["killed"] = True
            else:
                worker = restart(rig, kind, {"PARLEY_KILL_AT": step})
                row["sent_at"] = send(app, chat, sender)
                row["killed"] = died(worker)
                restart(rig, kind)
            wait_for_emails(rig.inbox, [row["to"]], LEASE_AND_MORE)
            rows.append(row)
        time.sleep(5)  # for any second email
        for row in rows:
            arrived = [
                (message, at)
                for message, at in zip(rig.inbox.messages, rig.inbox.arrived_at)
                if message["To"] == row["to"]
            ]
            row["emails"] = len(arrived)
            row["message_ids"] = len({message["Message-ID"] for message, _ in arrived})
            row["complete"] = all(
                all(text in message.get_body(("plain",)).get_content() for text in TEXTS) for message, _ in arrived
            )
            row["after_due_s"] = round(arrived[0][1] - (row["sent_at"] + DELAY), 1) if arrived else None
            del row["to"]
        return {
            "title": "the workers that send missed-message emails killed at each step; Redis losing its data",
            "kind": "missed-mail",
            "delay": DELAY,
            "minutes": round((time.time() - started) / 60, 1),
            "steps": rows,
            "queues": rig.queues(),
            "log_dir": log_dir,
        }
    finally:
        rig.stop()


def send(app, chat, sender):
    """Three messages to the person away, queued as the send view queues them; when the first was sent."""
    from app.chats.sending import pending
    from app.chats.sending.job import Job

    at = time.time()
    with app.test_request_context():
        for text in TEXTS:
            assert pending.accept(Job.new(uuid.uuid4().hex, chat, sender["_id"], text))
    return at


def restart(rig, kind, env=None):
    """Stop the running worker of `kind` (as its runner does, SIGTERM) and start another, with `env` added."""
    workers = rig.system.notify_workers if kind == "notify" else rig.system.mail_workers
    [old] = workers
    old.stop()
    started = old.output().count("consuming")
    new = rig.system.start_worker(kind, 1, env)
    rig.system.wait_consuming(new, started + 1)
    workers[:] = [new]
    return new


def died(worker):
    deadline = time.monotonic() + DIE_WITHIN
    while worker.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not worker.alive()


def wait_for_emails(inbox, addresses, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not set(addresses) <= {message["To"] for message in inbox.messages}:
        time.sleep(0.2)


def targets(scenario):
    """[(target, measured, met)]: every due email sent, once, whole; the one window SMTP leaves said as such."""
    rows = scenario["steps"]
    window = [row for row in rows if row["step"] == "mailer:sent"]
    others = [row for row in rows if row["step"] != "mailer:sent"]
    killed = sum(row["killed"] for row in rows)
    return [
        ("killed at each step", f"{killed} of {len(rows)}", killed == len(rows)),
        (
            "every due email sent",
            f"{sum(row['emails'] > 0 for row in rows)} of {len(rows)}",
            all(r["emails"] for r in rows),
        ),
        (
            "each sent once (but for the SMTP window: once per Message-ID)",
            ", ".join(f"{row['step']}: {row['emails']}" for row in rows),
            all(row["emails"] == 1 for row in others) and all(row["message_ids"] == 1 for row in window),
        ),
        (
            "each with its three messages",
            f"{sum(row['complete'] for row in rows)} of {len(rows)}",
            all(r["complete"] for r in rows),
        ),
    ]


def report(name, scenario):
    lines = [
        f"### {name}: {scenario['title']}",
        "",
        f"The email's delay is {scenario['delay']} s; each person away is sent three messages, then the worker "
        "that does the step dies there (SIGKILL) and is started again. A claim the notify worker held when it "
        "died lapses after 60 s, so those emails come about a minute after they fell due. "
        f"It took {scenario['minutes']} minutes.",
        "",
        "| step | killed | emails | Message-IDs | with all three messages | first email after it fell due (s) |",
        "|---|---|---|---|---|---|",
    ]
    for row in scenario["steps"]:
        lines.append(
            f"| {row['what']} (`{row['step']}`) | {'yes' if row['killed'] else '**no**'} | {row['emails']} "
            f"| {row['message_ids']} | {'yes' if row['complete'] else '**no**'} | {row['after_due_s']} |"
        )
    lines.append("")
    lines += [
        f"- {target}: {'met' if met else '**missed**'} ({measured})" for target, measured, met in targets(scenario)
    ]
    for queue, state in scenario["queues"].items():
        lines.append(f"- `{queue}`: {state['waiting']} still queued; dead-lettered: {state['dead'] or 'none'}")
    return lines + [""]
