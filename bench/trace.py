"""Reads what the traced processes wrote (app/tracing.py) and puts it beside
what the load saw: where each sampled message's time went, stage by stage,
and which stalls the slowest deliveries sat through."""

import glob
import os
from collections import Counter, defaultdict

# (name in the report, from stage, to stage): "sent" and "arrived" are the load's.
INTERVALS = (
    ("HTTP into the view", "sent", "received"),
    ("view → publish confirmed", "received", "confirmed"),
    ("view → worker has it", "received", "consumed"),
    ("worker has it → saved", "consumed", "saved"),
    ("saved → pushed to Redis", "saved", "pushed"),
    ("Redis → hub", "pushed", "dispatched"),
    ("hub → written to the socket", "dispatched", "written"),
    ("socket → page", "written", "arrived"),
    ("sent → arrived", "sent", "arrived"),
)
STALLS = ("gc", "blocked", "heartbeat", "ping", "batch")
SLOWEST = 5  # deliveries listed, with the longest stalls they sat through, per step
WORTH_NAMING = 5  # ms: a stall shorter than this explains no tail
LONG_BATCH = 20  # ms: a batch is the work itself, a stall only when this long


def read(folder, names):
    """{process name: [(wall time, what, detail...)]} from the trace files, by pid."""
    lines = defaultdict(list)
    for path in glob.glob(os.path.join(folder, "*.trace")):
        name = names.get(int(os.path.basename(path).split(".")[0]))
        if name is None:
            continue
        with open(path) as file:
            for line in file:
                at, what, *detail = line.split()
                lines[name].append((float(at), what, *detail))
    return lines


def quantiles(values):
    if not values:
        return None
    ordered = sorted(values)
    return {
        "p50": round(ordered[len(ordered) // 2], 1),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
        "n": len(ordered),
    }


def stages_of(lines):
    """{client_id: {stage: wall time}}; of the pushes, the receiver's (the worker names them as it saves)."""
    marks = [
        (detail[0], detail[1], at, detail[2:])
        for entries in lines.values()
        for at, what, *detail in entries
        if what == "stage"
    ]
    receivers = {client_id: user[0] for client_id, stage, _, user in marks if stage == "saved" and user}
    found = defaultdict(dict)
    for client_id, stage, at, user in marks:
        if stage in ("dispatched", "written") and receivers.get(client_id) != user[0]:
            continue  # the sender's copy
        found[client_id].setdefault(stage, at)
    return found


def stalls_of(lines):
    """[(start, end, process, what, ms, detail)] for every stall line."""
    found = []
    for name, entries in lines.items():
        for at, what, *detail in entries:
            if what not in STALLS:
                continue
            ms = float(detail[1] if what in ("gc", "batch") else detail[0])
            found.append((at, at + ms / 1000, name, what, ms, detail))
    return sorted(found)


def describe(stall):
    _, _, name, what, ms, detail = stall
    if what == "gc":
        return f"{name} gen{detail[0]} collection {ms:.0f} ms"
    if what == "blocked":
        return f"{name} loop blocked {ms:.0f} ms in {detail[1]}"
    if what == "batch":
        return f"{name} batch of {detail[0]}, {ms:.0f} ms (save {detail[2]}, push {detail[3]})"
    return f"{name} {what} {ms:.0f} ms"


def analyse(folder, names, steps):
    """Per step (`steps`: [{"window": [from, to], "delivery_ms": {"p99": ms}, "timed": [(client_id, sent, arrived)]}]):
    stage intervals, stall figures, the slowest deliveries and what they sat through."""
    lines = read(folder, names)
    stages = stages_of(lines)
    stalls = stalls_of(lines)
    figures = []
    for step in steps:
        start, end = step["window"]
        intervals = defaultdict(list)
        for client_id, sent, arrived in step["timed"]:
            times = {**stages.get(client_id, {}), "sent": sent, "arrived": arrived}
            if len(times) < 2 + 7:
                continue  # not traced (one of the slowest only), or a stage went unseen
            for name, first, second in INTERVALS:
                intervals[name].append((times[second] - times[first]) * 1000)
        in_step = [s for s in stalls if start <= s[0] <= end]
        figures.append(
            {
                "stages": {name: quantiles(intervals[name]) for name, _, _ in INTERVALS},
                "stalls": stall_figures(in_step, end - start),
                "slowest": slowest(step["timed"], stages, stalls),
                "tail": tail_causes(step["timed"], step["delivery_ms"]["p99"], stalls),
                "timeline": timeline(step["timed"], in_step, start),
            }
        )
    return figures


def timeline(timed, stalls, start):
    """For the chart: each timed delivery as (seconds into the step, ms), and
    each stall worth naming as (seconds into the step, ms, process and kind)."""
    return {
        "deliveries": [(round(sent - start, 3), round((arrived - sent) * 1000, 1)) for _, sent, arrived in timed],
        "stalls": [
            (round(s[0] - start, 3), round(s[4], 1), f"{s[2]} {s[3]}")
            for s in stalls
            if s[4] >= (LONG_BATCH if s[3] == "batch" else WORTH_NAMING)
        ],
    }


def stall_figures(stalls, seconds):
    """Per process and kind: how many, how long at most, and (loop blocks) where."""
    grouped = defaultdict(list)
    for stall in stalls:
        grouped[(stall[2], stall[3])].append(stall)
    figures = {}
    for (name, what), each in sorted(grouped.items()):
        ms = [s[4] for s in each]
        entry = {"count": len(each), "per_minute": round(len(each) * 60 / seconds, 1), "max_ms": max(ms)}
        if what == "gc":
            entry["full"] = sum(1 for s in each if s[5][0] == "2")
            entry["longest_by_generation"] = {
                g: max(s[4] for s in each if s[5][0] == g) for g in sorted({s[5][0] for s in each})
            }
        if what == "blocked":
            entry["total_ms"] = round(sum(ms))
            entry["where"] = Counter(s[5][1] for s in each).most_common(3)
        if what == "batch":
            sizes = sorted(int(s[5][0]) for s in each)
            entry["size_p50"], entry["size_max"] = sizes[len(sizes) // 2], sizes[-1]
            entry["ms_p50"] = sorted(ms)[len(ms) // 2]
        figures[f"{name} {what}"] = entry
    return figures


def overlapping(sent, arrived, stalls):
    return [
        s
        for s in stalls
        if s[0] < arrived and s[1] > sent and s[4] >= (LONG_BATCH if s[3] == "batch" else WORTH_NAMING)
    ]


def slowest(timed, stages, stalls):
    ranked = sorted(timed, key=lambda d: d[1] - d[2])[:SLOWEST]
    found = []
    for client_id, sent, arrived in ranked:
        times = stages.get(client_id, {})
        found.append(
            {
                "ms": round((arrived - sent) * 1000, 1),
                "stages_ms": {
                    stage: round((at - sent) * 1000, 1) for stage, at in sorted(times.items(), key=lambda i: i[1])
                },
                "sat_through": [
                    describe(s) for s in sorted(overlapping(sent, arrived, stalls), key=lambda s: -s[4])[:4]
                ],
            }
        )
    return found


def tail_causes(timed, p99, stalls):
    """Of the deliveries at or past the step's p99, how many sat through each
    kind of stall (a process's collection, blocked loop, long batch)."""
    tail = [d for d in timed if p99 is not None and (d[2] - d[1]) * 1000 >= p99]
    counts = Counter()
    for _, sent, arrived in tail:
        kinds = {f"{s[2]} {s[3]}" for s in overlapping(sent, arrived, stalls)}
        counts.update(kinds or {"none seen"})
    return {"deliveries": len(tail), "sat_through": dict(counts.most_common())}
