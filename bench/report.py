"""The benchmark report: latest.md (tables), latency.png (the chart), latest.json (raw figures)."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = (
    "knee ≥ 300 msg/s in every ladder run; up to 200 msg/s p99 delivery ≤ 50 ms and max ≤ 150 ms; CPU ≤ 4 ms a "
    "message at 200 msg/s (every process but the load); p50 delivery ≤ 20 ms at 100 msg/s; POST p50 ≤ 10 ms; 5,000 "
    "idle sockets ≤ 30 KB each within 15 s; chat page median ≤ 35 ms (app ≤ 10 ms); chat page first load ≤ 40 KB; "
    "message search ≤ 50 ms over 100,000 messages in 1,000 chats, within 2x of its time over 1,000"
)
LOAD = "load"  # the load processes' names begin so: they are not Parley's cost


def ms(value):
    return "–" if value is None else f"{value:.1f}"


def spread(figures):
    return " / ".join(ms(figures[key]) for key in ("p50", "p95", "p99", "max"))


def step_at(ladder, rate):
    return next((step for step in ladder["steps"] if step["rate"] == rate), None)


def knee(runs):
    """The highest rate every run carried, and each run's own knee."""
    carried = [{step["rate"] for step in run["steps"] if step["good"]} for run in runs]
    common = set.intersection(*carried) if carried else set()
    return max(common, default=None), [run["knee"] for run in runs]


def cpu_ms(step):
    """CPU milliseconds per message, per process, at the step's offered rate."""
    return {
        name: usage["cpu_percent"] * 10 / step["rate"]
        for name, usage in step["processes"].items()
        if not name.startswith(LOAD)
    }


def steps_at(runs, rate):
    return [step for run in runs for step in run["steps"] if step["rate"] == rate]


def targets(figures):
    rows = []
    runs = figures.get("ladder")
    if runs:
        common, each = knee(runs)
        rows.append(
            (
                f"knee ≥ 300 msg/s with 1,000 sockets, in {len(runs)} of {len(runs)} runs",
                f"{common} msg/s (runs: {', '.join(str(k) for k in each)})",
                (common or 0) >= 300,
            )
        )
        low = [step for run in runs for step in run["steps"] if step["rate"] <= 200]
        if low:
            p99 = max(step["delivery_ms"]["p99"] or 0 for step in low)
            top = max(step["delivery_ms"]["max"] or 0 for step in low)
            rows.append(("up to 200 msg/s, p99 delivery ≤ 50 ms (worst step)", f"{ms(p99)} ms", p99 <= 50))
            rows.append(("up to 200 msg/s, max delivery ≤ 150 ms (worst step)", f"{ms(top)} ms", top <= 150))
        at_200 = steps_at(runs, 200)
        if at_200:
            total = sum(sum(cpu_ms(step).values()) for step in at_200) / len(at_200)
            rows.append(("CPU per message at 200 msg/s ≤ 4 ms (all but the load)", f"{total:.2f} ms", total <= 4))
        at_100 = steps_at(runs, 100)
        if at_100:
            p50 = max(step["delivery_ms"]["p50"] or 0 for step in at_100)
            rows.append(("p50 send → delivery ≤ 20 ms at 100 msg/s", f"{ms(p50)} ms", p50 <= 20))
            post = max(step["post_ms"]["p50"] or 0 for step in at_100)
            rows.append(("POST send p50 ≤ 10 ms (at 100 msg/s)", f"{ms(post)} ms", post <= 10))
    pages = figures.get("pages")
    if pages and "POST a message (1,000-message chat)" in pages["pages"]:
        post = pages["pages"]["POST a message (1,000-message chat)"]["client_ms_median"]
        rows.append(("POST send p50 ≤ 10 ms, on a 1,000-message chat", f"{ms(post)} ms", post <= 10))
    idle = figures.get("idle")
    if idle:
        rows.append(
            (
                f"{idle['sockets']:,} idle sockets at ≤ 30 KB each",
                f"{idle['kb_per_socket']} KB",
                idle["kb_per_socket"] <= 30,
            )
        )
        rows.append(("… all connected within 15 s", f"{idle['connect_seconds']} s", idle["connect_seconds"] <= 15))
    if pages:
        chat = pages["pages"]["chat page (newest 50 of 1,000)"]
        rows.append(
            (
                "chat page median ≤ 35 ms server time",
                f"{ms(chat['server_ms']['median'])} ms",
                chat["server_ms"]["median"] <= 35,
            )
        )
        rows.append(
            (
                "… of which app time beyond the database ≤ 10 ms",
                f"{ms(chat['app_ms_median'])} ms",
                chat["app_ms_median"] <= 10,
            )
        )
        first = pages["first_load"]["chat page"]["bytes"]
        rows.append(("chat page first load ≤ 40 KB compressed", f"{first / 1024:.1f} KB", first <= 40 * 1024))
    for name, sizes in (figures.get("growth") or {}).items():
        if name.startswith("message search") and len(sizes) > 1:
            values = list(sizes.values())
            largest, spread = values[-1], max(values) / max(min(values), 0.01)
            rows.append((f"{name}: ≤ 50 ms at the largest size", f"{ms(largest)} ms", largest <= 50))
            rows.append(("… within 2x from smallest to largest", f"{spread:.2f}x", spread <= 2))
    return rows


def ladder_table(ladder):
    names = sorted({name for step in ladder["steps"] for name in step["processes"]})
    lines = [
        "| offered msg/s | sent | POST ms p50 / p95 / p99 / max | delivery ms p50 / p95 / p99 / max | errors "
        "| not delivered in 10 s | doubled | queue max | " + " | ".join(f"{name} CPU% / MB" for name in names) + " |",
        "|" + "---|" * (8 + len(names)),
    ]
    for step in ladder["steps"]:
        usage = [
            f"{step['processes'][name]['cpu_percent']} / {step['processes'][name]['rss_mb']}"
            if name in step["processes"]
            else "–"
            for name in names
        ]
        lines.append(
            f"| {step['rate']} | {step['sent']} | {spread(step['post_ms'])} | {spread(step['delivery_ms'])} "
            f"| {step['errors']} | {step['lost']} | {step['doubled']} | {step['queue_depth_max']} | "
            + " | ".join(usage)
            + " |"
        )
    return "\n".join(lines)


def spread_table(runs):
    """Each rate across the runs: did each carry it, and the range of its p99 and max."""
    lines = [
        "| offered msg/s | carried (runs) | p50 ms | p99 ms | max ms | CPU ms a message (all but the load) |",
        "|---|---|---|---|---|---|",
    ]
    for rate in [step["rate"] for step in runs[0]["steps"]]:
        steps = steps_at(runs, rate)

        def span(key, steps=steps):
            values = [step["delivery_ms"][key] for step in steps if step["delivery_ms"][key] is not None]
            return f"{ms(min(values))}–{ms(max(values))}" if values else "–"

        cpu = [sum(cpu_ms(step).values()) for step in steps]
        lines.append(
            f"| {rate} | {sum(step['good'] for step in steps)} of {len(steps)} | {span('p50')} | {span('p99')} "
            f"| {span('max')} | {min(cpu):.2f}–{max(cpu):.2f} |"
        )
    return "\n".join(lines)


def cpu_table(runs):
    """CPU ms a message per process at each rate, the mean of the runs."""
    names = sorted({name for run in runs for step in run["steps"] for name in cpu_ms(step)})
    lines = ["| offered msg/s | " + " | ".join(names) + " | total |", "|" + "---|" * (len(names) + 2)]
    for rate in [step["rate"] for step in runs[0]["steps"]]:
        steps = steps_at(runs, rate)
        mean = {name: sum(cpu_ms(step).get(name, 0) for step in steps) / len(steps) for name in names}
        lines.append(
            f"| {rate} | " + " | ".join(f"{mean[name]:.2f}" for name in names) + f" | {sum(mean.values()):.2f} |"
        )
    return "\n".join(lines)


def at_rest_line(runs):
    """What the open pages cost with no messages (measured before each run's
    first step), and the share of each message's CPU that makes at 200 msg/s."""
    measured = [run["at_rest"] for run in runs if run.get("at_rest")]
    if not measured:
        return ""
    names = sorted({name for usage in measured for name in usage})
    mean = {name: sum(usage.get(name, {}).get("cpu_percent", 0) for usage in measured) for name in names}
    mean = {name: cpu / len(measured) for name, cpu in mean.items()}
    total = sum(mean.values())
    share = f"; {total * 10 / 200:.2f} ms of each message at 200 msg/s" if steps_at(runs, 200) else ""
    each = ", ".join(f"{name} {mean[name]:.1f}%" for name in names)
    return (
        "With the pages open and no messages (before each run's first step, the mean of the runs): "
        f"{total:.1f}% of a core ({each}){share}."
    )


def store_table(runs):
    """The store's operations a message at each rate, the mean of the runs
    (serverStatus opcounters as the store keeps them: SecantusDB counts an
    insert or update command once, however many documents it carries)."""
    kinds = ["insert", "query", "update", "delete", "getmore", "command"]
    lines = ["| offered msg/s | " + " | ".join(kinds) + " | total |", "|" + "---|" * (len(kinds) + 2)]
    for rate in [step["rate"] for step in runs[0]["steps"]]:
        steps = [step for step in steps_at(runs, rate) if "store_per_second" in step]
        if not steps:
            return ""
        mean = {kind: sum(step["store_per_second"].get(kind, 0) for step in steps) / len(steps) for kind in kinds}
        mean = {kind: per_second / rate for kind, per_second in mean.items()}
        lines.append(
            f"| {rate} | " + " | ".join(f"{mean[kind]:.2f}" for kind in kinds) + f" | {sum(mean.values()):.2f} |"
        )
    return "\n".join(lines)


def stage_table(run):
    steps = [step for step in run["steps"] if step.get("trace")]
    if not steps:
        return ""
    names = list(steps[0]["trace"]["stages"])
    lines = [
        "| stage | " + " | ".join(f"{step['rate']} msg/s" for step in steps) + " |",
        "|" + "---|" * (len(steps) + 1),
    ]
    for name in names:
        cells = []
        for step in steps:
            figures = step["trace"]["stages"][name]
            cells.append(f"{figures['p50']} / {figures['p99']} / {figures['max']}" if figures else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    traced = [str((step["trace"]["stages"]["sent → arrived"] or {}).get("n", 0)) for step in steps]
    lines.append("| messages traced | " + " | ".join(traced) + " |")
    return "\n".join(lines)


def stall_lines(run):
    lines = []
    for step in run["steps"]:
        traced = step.get("trace")
        if not traced:
            continue
        parts = []
        for name, entry in traced["stalls"].items():
            text = f"{name}: {entry['count']} ({entry['per_minute']}/min), longest {entry['max_ms']:.0f} ms"
            if "full" in entry:
                longest = ", ".join(f"gen{g} {ms:.0f}" for g, ms in entry["longest_by_generation"].items())
                text += f", {entry['full']} full (longest: {longest} ms)"
            if "where" in entry:
                text += ", in " + "; ".join(f"{where} ×{count}" for where, count in entry["where"])
            if "size_p50" in entry:
                text += f", {entry['size_p50']} jobs ({entry['size_max']} most) in {entry['ms_p50']:.0f} ms typically"
            parts.append(text)
        tail = traced["tail"]
        causes = ", ".join(f"{kind} {count}" for kind, count in tail["sat_through"].items())
        lines += [
            f"**{step['rate']} msg/s** (delivery p99 {ms(step['delivery_ms']['p99'])}, max "
            f"{ms(step['delivery_ms']['max'])} ms). Stalls: " + ("; ".join(parts) or "none") + ".",
            "",
            f"Of the {tail['deliveries']} deliveries at or past p99, how many sat through a stall of ≥ 5 ms of each "
            f"kind: {causes or '–'}. The slowest:",
            "",
        ]
        for slow in traced["slowest"]:
            stages = ", ".join(f"{stage} {at}" for stage, at in slow["stages_ms"].items()) or "not sampled"
            through = "; ".join(slow["sat_through"]) or "no stall seen"
            lines.append(f"- {slow['ms']} ms ({stages}): {through}")
        lines.append("")
    return "\n".join(lines)


def chart(figures, out):
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for key, style in (("ladder", "-"), ("scaleout", "--")):
        for number, run in enumerate(figures.get(key) or []):
            rates = [step["rate"] for step in run["steps"]]
            for percentile, colour in (("p50", "tab:blue"), ("p99", "tab:red"), ("max", "tab:grey")):
                values = [step["delivery_ms"][percentile] for step in run["steps"]]
                label = f"{percentile}, {run['config']}" if number == 0 else None
                axis.plot(rates, values, style, marker="o", color=colour, label=label, alpha=0.8)
    axis.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xticks([25, 50, 100, 200, 300, 400])
    axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axis.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
    save_chart(
        figure,
        axis,
        "Parley: delivery latency against offered rate (every run)",
        "offered rate (messages per second)",
        "send → delivery (ms)",
        os.path.join(out, "latency.png"),
    )


def save_chart(figure, axis, title, x_label, y_label, path):
    """Labels, legend and grid, written to `path`: what the line charts share."""
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    axis.set_title(title)
    axis.legend(fontsize=8)
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def stall_chart(run, out):
    """The highest step every run of the ladder carried (else the lowest): each
    traced delivery against time, and under it each stall as a bar as long as it lasted."""
    steps = [step for step in run["steps"] if step.get("trace")]
    if not steps:
        return None
    carried = [step for step in steps if step["good"]]
    step = carried[-1] if carried else steps[0]
    line = step["trace"]["timeline"]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), dpi=110, sharex=True, height_ratios=(3, 2))
    top.scatter([d[0] for d in line["deliveries"]], [d[1] for d in line["deliveries"]], s=4, color="tab:blue")
    top.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    top.set_yscale("log")
    top.get_yaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    top.set_ylabel("send → delivery (ms)")
    top.set_title(f"Deliveries and stalls at {step['rate']} msg/s (run 1; a quarter of the messages and the slowest)")
    kinds = sorted({s[2] for s in line["stalls"]})
    for row, kind in enumerate(kinds):
        bars = [(s[0], s[1] / 1000) for s in line["stalls"] if s[2] == kind]
        bottom.broken_barh(bars, (row - 0.4, 0.8), color=plt.cm.tab10(row % 10))
    bottom.set_yticks(range(len(kinds)), kinds, fontsize=8)
    bottom.set_xlabel("seconds into the measured window")
    bottom.grid(True, axis="x", alpha=0.3)
    top.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(os.path.join(out, "stalls.png"))
    plt.close(figure)
    return step["rate"]


def write(figures, out):
    machine = figures["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    lines = [
        "# Parley benchmark" + (" (smoke run)" if figures.get("smoke") else ""),
        "",
        f"Run {figures['started']}, {figures['minutes']} minutes. Machine: {machine['cpu']}, "
        f"{machine['cores']} cores, {machine['memory_gb']} GB, {machine['os']}; Python {machine['python']}; "
        f"{machine['redis']}; RabbitMQ {machine['rabbitmq']}; {packages}. The app, every service and the load "
        "processes all run on this one machine; SecantusDB is the MongoDB.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {name} | {value} | {'yes' if met else '**no**'} |" for name, value, met in targets(figures)),
        "",
    ]
    for key in ("ladder", "scaleout"):
        runs = figures.get(key)
        if not runs:
            continue
        first = runs[0]
        common, each = knee(runs)
        lines += [
            f"## Rate ladder, {first['config']} ({first['web']} web process(es), {first['chat_workers']} chat "
            f"worker(s)), {len(runs)} run(s)",
            "",
            f"{first['pairs']} pairs talking ({2 * first['pairs']} active sockets) and {first['idle']} idle "
            "signed-in sockets; open-loop sends as the chat form's htmx POST; each run on a fresh system. "
            f"Knee: **{common} msg/s** in every run (runs: {', '.join(str(k) for k in each)}): the highest rate with "
            "p99 delivery ≤ 100 ms, every message delivered within 10 s, none doubled or refused.",
            "",
            spread_table(runs),
            "",
            "CPU milliseconds per message, per process (the mean of the runs):",
            "",
            cpu_table(runs),
            "",
            at_rest_line(runs),
            "",
            "MongoDB operations per message (SecantusDB's counters; the mean of the runs):",
            "",
            store_table(runs),
            "",
        ]
        for number, run in enumerate(runs, start=1):
            lines += [
                f"### Run {number}: knee {run['knee']} msg/s; messages saved: {run['saved_messages']} "
                "(warm-ups included)",
                "",
                ladder_table(run),
                "",
            ]
        if key == "ladder":
            lines += [
                "![Delivery latency against offered rate](latency.png)",
                "",
                "### Where a message's time goes (run 1)",
                "",
                "A quarter of the messages (chosen by client_id) traced through each stage; ms p50 / p99 / max. "
                "The worker may have a message before the web process hears the broker's confirm, so both are "
                "from the view.",
                "",
                stage_table(first),
                "",
                "### Stalls against the slowest deliveries (run 1)",
                "",
                f"![Deliveries and stalls at {stall_chart(first, out)} msg/s](stalls.png)",
                "",
                "Collections (of ≥ 2 ms, or full), the web process's event loop blocked ≥ 15 ms (and the "
                "frames it was in), the presence heartbeat and the ping round, the chat worker's batches; "
                '"stages" are ms from the send.',
                "",
                stall_lines(first),
            ]
    idle = figures.get("idle")
    if idle:
        lines += [
            "## Idle sockets on one web process",
            "",
            "| sockets | handshakes done in | all taken in (subscribed, in presence) in | web CPU while connecting "
            "| RSS before → after | per socket | delivery ms p50 / p95 / p99 / max (while open) |",
            "|---|---|---|---|---|---|---|",
            f"| {idle['sockets']:,} | {idle['handshake_seconds']} s | {idle['connect_seconds']} s "
            f"| {idle['connect_cpu_seconds']} s "
            f"| {idle['rss_before_mb']} → {idle['rss_after_mb']} MB | {idle['kb_per_socket']} KB "
            f"| {spread(idle['delivery_ms'])} |",
            "",
        ]
    pages = figures.get("pages")
    if pages:
        lines += [
            "## Pages (server time, from Server-Timing)",
            "",
            "| page | median ms | p95 ms | database ms (median) | app ms beyond it (median) | client ms (median) "
            "| HTML bytes |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, page in pages["pages"].items():
            lines.append(
                f"| {name} | {ms(page['server_ms']['median'])} | {ms(page['server_ms']['p95'])} "
                f"| {ms(page['db_ms_median'])} | {ms(page['app_ms_median'])} | {ms(page['client_ms_median'])} "
                f"| {page['html_bytes']:,} |"
            )
        lines += [
            "",
            "First load, compressed bytes on the wire (HTML, CSS, JavaScript):",
            "",
            "| page | total | parts |",
            "|---|---|---|",
        ]
        for name, load in pages["first_load"].items():
            parts = ", ".join(f"{part} {size:,}" for part, size in load["parts"].items())
            lines.append(f"| {name} | {load['bytes'] / 1024:.1f} KB | {parts} |")
        lines.append("")
    lines += growth_section(figures.get("growth"), out)
    lines += ["Targets: " + TARGETS + ".", ""]
    with open(os.path.join(out, "latest.md"), "w") as file:
        file.write("\n".join(lines))
    chart(figures, out)


GROWTH_UNITS = {
    "chat page": "messages in the chat",
    "Load earlier messages": "messages in the chat",
    "people search": "people whose name matches",
    "Chats navigation": "chats of the person",
    "send": "chats of the sender",
    "presence told on connect": "contacts (one in ten online)",
    "presence snapshot on reconnect": "contacts (one in ten online)",
    "message search, words in every message": "messages in all chats (10 the searcher's)",
    "message search, a word in none": "messages in all chats (10 the searcher's)",
}


def growth_section(growth, out):
    """One small table per path (median ms by size) and one chart of them all."""
    if not growth:
        return []
    lines = [
        "## Growth (median ms as the data grows)",
        "",
        f"One web worker, {growth['requests']} requests each: server time (Server-Timing) for pages and sends, "
        "time in process for the presence work of a connect.",
        "",
    ]
    paths = {name: sizes for name, sizes in growth.items() if name in GROWTH_UNITS}
    for name, sizes in paths.items():
        lines += [
            f"| {name}: {GROWTH_UNITS[name]} | " + " | ".join(f"{int(size):,}" for size in sizes) + " |",
            "|---|" + "---|" * len(sizes),
            "| median ms | " + " | ".join(ms(value) for value in sizes.values()) + " |",
            "",
        ]
    growth_chart(paths, out)
    return lines + ["![Median ms against data size](growth.png)", ""]


def growth_chart(paths, out):
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for name, sizes in paths.items():
        axis.plot([int(size) for size in sizes], list(sizes.values()), marker="o", label=name)
    axis.set_xscale("log")
    axis.set_yscale("log")
    save_chart(
        figure,
        axis,
        "Parley: cost of each path as its data grows",
        "data size (messages, people, chats or contacts)",
        "median ms",
        os.path.join(out, "growth.png"),
    )
