"""What one fault cost, from what the people saw (answers, pushes, emails),
what MongoDB holds after the run, the queues, and the processes' logs."""

import os
import re
from collections import Counter

DEADLINE = 20  # seconds after the fault ends by which every accepted send is delivered


def status_text(record):
    status = record.get("status")
    return str(status) if isinstance(status, int) else f"no answer ({status.split('(')[0]})"


def refusals(records, accepted):
    return dict(Counter(f"{status_text(r)}: {r.get('answer') or ''}".strip() for r in records if not accepted(r)))


def recovery(items, fault_end):
    """Seconds from the fault's end to the first delivery after it, and to the
    moment everything accepted before it had arrived (None: some never did)."""
    after = [item["arrived_at"] for item in items if item["arrived_at"] and item["arrived_at"] >= fault_end]
    before = [item for item in items if item["answered_at"] <= fault_end]
    first = round(min(after) - fault_end, 1) if after else None
    if any(item["arrived_at"] is None for item in items):
        return first, None
    caught_up = max((item["arrived_at"] for item in before), default=fault_end)
    return first, round(max(0.0, caught_up - fault_end), 1)


def late(items, fault_end):
    """Accepted, and not delivered within DEADLINE seconds of the fault's end (or of being sent, if later)."""
    return sum(
        1
        for item in items
        if item["arrived_at"] is None or item["arrived_at"] > max(fault_end, item["answered_at"]) + DEADLINE
    )


def lost_sends(lost, fault_start):
    """When each lost send went, and whether its receiver saw it anyway, in seconds from the fault's start."""

    def since(moment):
        return None if moment is None else round(moment - fault_start, 2)

    return [{"sent_s": since(send["started_at"]), "delivered_s": since(send["arrived_at"])} for send in lost]


def messages(sends, stored, fault_start, fault_end):
    copies = Counter(client_id for client_id, _ in stored)
    accepted = [send for send in sends if send["status"] == 200]
    numbers = [seq for _, seq in stored]
    first, caught_up = recovery(accepted, fault_end)
    lost = [send for send in accepted if copies[send["client_id"]] == 0]
    return {
        "sent": len(sends),
        "accepted": len(accepted),
        "refused": len(sends) - len(accepted),
        "refusals": refusals(sends, lambda send: send["status"] == 200),
        "stored_once": sum(copies[send["client_id"]] == 1 for send in accepted),
        "doubled": sum(copies[send["client_id"]] > 1 for send in accepted),
        "lost": len(lost),
        "lost_sends": lost_sends(lost, fault_start),
        "refused_yet_stored": sum(copies[send["client_id"]] > 0 for send in sends if send["status"] != 200),
        "numbers_given_twice": len(numbers) - len(set(numbers)),
        "delivered": sum(send["arrived_at"] is not None for send in accepted),
        "delivered_by_refresh": sum(send["via"] == "refresh" for send in accepted),
        "left_sending": sum(send["sender_updated_at"] is None for send in accepted),
        "late": late(accepted, fault_end),
        "first_delivery_s": first,
        "all_delivered_s": caught_up,
    }


def codes(requests, inbox, fault_end):
    arrivals = {}
    for message, at in zip(inbox.messages, inbox.arrived_at):
        arrivals.setdefault(message["To"], []).append(at)
    accepted = [dict(r, arrived_at=min(arrivals.get(r["email"], [None]))) for r in requests if r["accepted"]]
    first, caught_up = recovery(accepted, fault_end)
    return {
        "requested": len(requests),
        "accepted": len(accepted),
        "refused": len(requests) - len(accepted),
        "refusals": refusals(requests, lambda request: request["accepted"]),
        "delivered": sum(r["arrived_at"] is not None for r in accepted),
        "doubled": sum(len(arrivals.get(r["email"], [])) > 1 for r in accepted),
        "lost": sum(r["arrived_at"] is None for r in accepted),
        "late": late(accepted, fault_end),
        "first_delivery_s": first,
        "all_delivered_s": caught_up,
    }


def server_errors(sends, requests, pages):
    """{status: {what was asked: count}} for every 5xx answer: sends, sign-ins, socket handshakes, refreshes."""
    found = {}

    def count(status, source):
        if isinstance(status, int) and status >= 500:
            found.setdefault(str(status), Counter())[source] += 1

    for send in sends:
        count(send["status"], "send")
    for request in requests:
        count(request.get("status"), "sign-in")
    asked = {"reconnect failed": "socket", "refreshed": "refresh"}  # a close's detail is its code, not a status
    for page in pages:
        for _, what, detail in page["events"]:
            if what in asked:
                count(detail, asked[what])
    return {status: dict(sources) for status, sources in found.items()}


def page_events(pages, fault_end):
    """Closes by code, reconnects and refreshes over both pages, and each
    page's pushes: how many, when the last came, whether its live updates ended."""
    events = Counter()
    for page in pages:
        for _, what, detail in page["events"]:
            events[what if what == "reconnected" else f"{what} {detail}"] += 1
    each = []
    for page in pages:
        last = page["last_push_at"]
        when = "none" if last is None else f"the last {last - fault_end:+.1f} s from the fault's end"
        ended = f", live updates ended with {page['ended']}" if page["ended"] is not None else ""
        each.append(f"{page['pushes']} pushes, {when}{ended}")
    return {"events": dict(events), "each": each}


NOISE = re.compile(r"0x[0-9a-f]+|[0-9a-f]{24,32}|\d+(\.\d+)?")


def log_lines(log_dir, most=4):
    """The commonest ERROR and WARNING lines in each of the app's processes' logs, numbers and ids masked."""
    found = {}
    for name in sorted(os.listdir(log_dir)):
        if not name.endswith(("-web.log", "worker1.log")):
            continue
        with open(os.path.join(log_dir, name), errors="replace") as file:
            lines = [NOISE.sub("N", line.strip())[:200] for line in file if "ERROR" in line or "WARNING" in line]
        if lines:
            process = name.rsplit(".", 1)[0].split("-", 1)[-1]
            found[process] = [[line, n] for line, n in Counter(lines).most_common(most)]
    return found
