"""One fault, start to end: a fresh Rig, its two people sending at a steady
rate with their pages open, others asking for sign-in codes, the fault
after a warm-up, sending on for a while after it, then the figures."""

import json
import os
import sys
import time

from bench.scenarios import LoadProcess
from chaos import away, faults, figures
from chaos.rig import Rig
from chaos.signin import CodeRequests

RATE = 20  # messages a second, the two people taking turns
CODES_EVERY = 2.0  # seconds between two sign-in code requests

SCENARIOS = {
    "chat-worker-kill": ("SIGKILL the chat worker", faults.chat_worker_kill),
    "web-worker-kill": ("SIGKILL a web process (one of two gunicorn workers)", faults.web_worker_kill),
    "rabbitmq-restart": ("restart RabbitMQ", faults.rabbitmq_restart),
    "rabbitmq-kill": (f"SIGKILL RabbitMQ, down {faults.DOWN} s", faults.rabbitmq_kill),
    "redis-restart": ("restart Redis (its data lost)", faults.redis_restart),
    "redis-kill": (f"SIGKILL Redis, down {faults.DOWN} s (its data lost)", faults.redis_kill),
    "redis-oom": (f"Redis out of memory for {faults.OOM_SECONDS} s", faults.redis_out_of_memory),
    "redis-rollback": ("Redis restored from a snapshot 10 s old", faults.redis_rollback),
    "secantusdb-kill": (f"SIGKILL SecantusDB, down {faults.DOWN} s", faults.secantusdb_kill),
    "smtp-down": (f"SMTP server down for {faults.SMTP_DOWN} s", faults.smtp_down),
    # A run of its own (chaos/away.py): people away, and the workers that email them killed at each step.
    "missed-mail-kill": ("kill the workers sending missed-message emails at each step", None),
}


def progress(message):
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


def scenario(name, rabbitmq, log_dir, warmup, after, late):
    """Run one fault; returns its figures. `warmup` and `after` are the seconds
    of sending before the fault and after it ends; `late` how long to wait
    after that for what is still on its way."""
    title, fault = SCENARIOS[name]
    log_dir = os.path.join(log_dir, name)
    os.makedirs(log_dir, exist_ok=True)
    progress(f"{name}: starting Parley")
    if fault is None:
        return away.scenario(rabbitmq, log_dir)
    rig = Rig(name, rabbitmq, log_dir)
    load = codes = None
    try:
        pair = {"chat": str(rig.chat), "people": rig.people}
        load = LoadProcess({"base": rig.url, "pairs": [pair], "late": late, "records": True})
        load.expect("{", 60)
        codes = CodeRequests(rig.url, CODES_EVERY)
        load.tell(f"step 0 {time.time() + 0.2} {RATE} 3600 0")
        time.sleep(0.2 + warmup)
        progress(f"{name}: {title}")
        fault_start, fault_end = fault(rig)
        progress(f"{name}: back after {fault_end - fault_start:.1f} s; sending for {after} s more")
        time.sleep(after)
        load.tell("stop")
        load.expect("done", 30)
        requests = codes.stop()
        load.tell("finish")
        wait_for_codes(rig.inbox, requests, late)
        answer = json.loads(load.expect('{"results"', late + 60))
        stored = rig.messages()
        queues = rig.queues()
    finally:
        if codes:
            codes.stop()
        if load:
            load.stop()
        rig.stop()
    sends, pages = answer["sends"], answer["pages"]
    with open(os.path.join(log_dir, "records.json"), "w") as file:  # every send, request and page event
        json.dump({"fault": [fault_start, fault_end], "sends": sends, "pages": pages, "codes": requests}, file)
    return {
        "title": title,
        "fault": {"start": fault_start, "end": fault_end, "seconds": round(fault_end - fault_start, 1)},
        "messages": figures.messages(sends, stored, fault_start, fault_end),
        "codes": figures.codes(requests, rig.inbox, fault_end),
        "server_errors": figures.server_errors(sends, requests, pages),
        "pages": figures.page_events(pages, fault_end),
        "queues": queues,
        "logs": figures.log_lines(log_dir),
        "log_dir": log_dir,
    }


def wait_for_codes(inbox, requests, seconds):
    wanted = {request["email"] for request in requests if request["accepted"]}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not wanted <= {message["To"] for message in inbox.messages}:
        time.sleep(0.2)
