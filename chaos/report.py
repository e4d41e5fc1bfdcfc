"""The fault run's report: latest.md (tables, then what each fault did), beside latest.json."""

import os

from chaos import away
from chaos.figures import DEADLINE

TARGETS = (
    "0 lost",
    "0 doubled",
    f"every accepted send delivered within {DEADLINE} s of the fault ending",
    "0 answers of 500",
)


def targets(scenario):
    """[(target, measured, met)] for one fault: messages to the open page and sign-in codes to their inbox."""
    if scenario.get("kind") == "missed-mail":
        return away.targets(scenario)
    messages, codes = scenario["messages"], scenario["codes"]
    answers_500 = sum(scenario["server_errors"].get("500", {}).values())
    return [
        (TARGETS[0], f"{messages['lost']} messages, {codes['lost']} codes", messages["lost"] + codes["lost"] == 0),
        (TARGETS[1], f"{messages['doubled']} / {codes['doubled']}", messages["doubled"] + codes["doubled"] == 0),
        (TARGETS[2], f"{messages['late']} / {codes['late']} late", messages["late"] + codes["late"] == 0),
        (TARGETS[3], str(answers_500), answers_500 == 0),
    ]


def seconds(value):
    return "never" if value is None else f"{value:.1f}"


def counted(mapping):
    return "; ".join(f"{what} × {n}" for what, n in mapping.items()) or "none"


def fault_table(figures):
    lines = [
        "| fault | " + " | ".join(TARGETS) + " |",
        "|---|" + "---|" * len(TARGETS),
    ]
    for name, scenario in figures["scenarios"].items():
        if "error" in scenario:
            lines.append(f"| {name} | " + " | ".join(["not run"] * len(TARGETS)) + " |")
            continue
        if scenario.get("kind") == "missed-mail":  # targets of its own, below
            continue
        cells = [f"{'met' if met else '**missed**'} ({measured})" for _, measured, met in targets(scenario)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def message_table(figures):
    lines = [
        "| fault | down (s) | sent | accepted | refused | stored once | doubled | lost | refused, yet stored "
        "| delivered to the open page (of them by refresh) | late | left on *Sending* "
        "| first delivery after the fault (s) | all delivered after the fault (s) | 500 | 503 | other 5xx |",
        "|---|" + "---|" * 16,
    ]
    for name, scenario in figures["scenarios"].items():
        if "error" in scenario or "messages" not in scenario:
            continue
        m, errors = scenario["messages"], scenario["server_errors"]
        others = sum(sum(sources.values()) for status, sources in errors.items() if status not in ("500", "503"))
        lines.append(
            f"| {name} | {scenario['fault']['seconds']} | {m['sent']} | {m['accepted']} | {m['refused']} "
            f"| {m['stored_once']} | {m['doubled']} | {m['lost']} | {m['refused_yet_stored']} "
            f"| {m['delivered']} ({m['delivered_by_refresh']}) | {m['late']} | {m['left_sending']} "
            f"| {seconds(m['first_delivery_s'])} "
            f"| {seconds(m['all_delivered_s'])} | {sum(errors.get('500', {}).values())} "
            f"| {sum(errors.get('503', {}).values())} | {others} |"
        )
    return lines


def code_table(figures):
    lines = [
        "| fault | requested | accepted | refused | delivered | doubled | lost | late "
        "| first delivery after the fault (s) | all delivered after the fault (s) |",
        "|---|" + "---|" * 9,
    ]
    for name, scenario in figures["scenarios"].items():
        if "error" in scenario or "codes" not in scenario:
            continue
        c = scenario["codes"]
        lines.append(
            f"| {name} | {c['requested']} | {c['accepted']} | {c['refused']} | {c['delivered']} | {c['doubled']} "
            f"| {c['lost']} | {c['late']} | {seconds(c['first_delivery_s'])} | {seconds(c['all_delivered_s'])} |"
        )
    return lines


def details(name, scenario):
    if "error" in scenario:
        return [f"### {name}", "", f"Not run: {scenario['error']}", ""]
    if scenario.get("kind") == "missed-mail":
        return away.report(name, scenario)
    lines = [
        f"### {name}: {scenario['title']}",
        "",
        f"- refused sends: {counted(scenario['messages']['refusals'])}",
        f"- refused code requests: {counted(scenario['codes']['refusals'])}",
        "- 5xx answers: "
        + (
            "; ".join(
                f"{status} to {counted(sources)}" for status, sources in sorted(scenario["server_errors"].items())
            )
            or "none"
        ),
        f"- the two open pages' closes, reconnects and refreshes: {counted(scenario['pages']['events'])}",
        *(f"- page {n}: {text}" for n, text in enumerate(scenario["pages"]["each"], start=1)),
        f"- numbers given twice in the chat: {scenario['messages']['numbers_given_twice']}",
    ]
    for lost in scenario["messages"]["lost_sends"]:
        seen = "never delivered" if lost["delivered_s"] is None else f"delivered to the page at {lost['delivered_s']} s"
        lines.append(f"- lost: accepted, sent at {lost['sent_s']} s from the fault's start, {seen}")
    for queue, state in scenario["queues"].items():
        lines.append(f"- `{queue}`: {state['waiting']} still queued; dead-lettered: {counted(state['dead'])}")
    for process, found in scenario["logs"].items():
        lines.append(f"- log of {process}: " + "; ".join(f"`{line}` × {n}" for line, n in found))
    return lines + [""]


def write(figures, out):
    settings = figures["settings"]
    lines = [
        "# Parley under faults" + (" (smoke run)" if figures.get("smoke") else ""),
        "",
        f"Run {figures['started']}, {figures['minutes']} minutes, on {figures['machine']}. Each fault gets a "
        "fresh deployment as the Procfile runs it (gunicorn with two gevent workers, a chat worker, a mail "
        "worker) on a private Redis, SecantusDB and SMTP server and the run's private RabbitMQ. Two people "
        f"send {settings['rate']} messages a second between them, taking turns, with their chat pages open "
        "(WebSockets that resume as the page's script does); someone asks for a sign-in code every "
        f"{settings['codes_every']} s. They send for {settings['warmup']} s, the fault happens, and they send "
        f"for {settings['after']} s after it ends; what is still on its way then gets {settings['late']} s more.",
        "",
        "The fault ends when what was broken is back: the process running again, the server accepting "
        "connections, the memory limit lifted. *Accepted* is a send answered 200 (*Sending*) or a code request "
        "answered with the way to the code page; *stored once* and *lost* are read from MongoDB after the run; "
        "*delivered* means the receiver's open page got the message's element (`m-<client_id>`) in a push or in "
        "the refresh it was told to do, or the code's email reached the SMTP server; *late* is accepted and not "
        f"delivered within {DEADLINE} s of the fault ending (or of its sending, if later); *left on Sending* is "
        "accepted and never updated on the sender's own open page (no push of it came back to them).",
        "",
        "## Targets",
        "",
        *fault_table(figures),
        "",
        "## Chat messages",
        "",
        *message_table(figures),
        "",
        "## Sign-in codes",
        "",
        *code_table(figures),
        "",
        "## What each fault did",
        "",
        f"Logs: `{figures['log_dir']}` (one folder per fault).",
        "",
    ]
    for name, scenario in figures["scenarios"].items():
        lines += details(name, scenario)
    with open(os.path.join(out, "latest.md"), "w") as file:
        file.write("\n".join(lines))
