"""The benchmark report: latest.md (tables), latency.png (the chart), latest.json (raw figures)."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = (
    "knee ≥ 200 msg/s; p50 delivery ≤ 20 ms at 100 msg/s; POST p50 ≤ 10 ms; 5,000 idle sockets ≤ 30 KB each "
    "within 15 s; chat page median ≤ 35 ms (app ≤ 10 ms); chat page first load ≤ 40 KB"
)


def ms(value):
    return "–" if value is None else f"{value:.1f}"


def spread(figures):
    return " / ".join(ms(figures[key]) for key in ("p50", "p95", "p99", "max"))


def step_at(ladder, rate):
    return next((step for step in ladder["steps"] if step["rate"] == rate), None)


def targets(figures):
    rows = []
    ladder = figures.get("ladder")
    if ladder:
        at_100 = step_at(ladder, 100)
        rows.append(("knee ≥ 200 msg/s with 1,000 sockets", f"{ladder['knee']} msg/s", (ladder["knee"] or 0) >= 200))
        if at_100:
            p50 = at_100["delivery_ms"]["p50"]
            rows.append(("p50 send → delivery ≤ 20 ms at 100 msg/s", f"{ms(p50)} ms", p50 is not None and p50 <= 20))
            post = at_100["post_ms"]["p50"]
            rows.append(("POST send p50 ≤ 10 ms (at 100 msg/s)", f"{ms(post)} ms", post is not None and post <= 10))
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


def chart(figures, out):
    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=110)
    for key, style in (("ladder", "-"), ("scaleout", "--")):
        ladder = figures.get(key)
        if not ladder:
            continue
        rates = [step["rate"] for step in ladder["steps"]]
        for percentile, colour in (("p50", "tab:blue"), ("p95", "tab:orange"), ("p99", "tab:red")):
            values = [step["delivery_ms"][percentile] for step in ladder["steps"]]
            axis.plot(rates, values, style, marker="o", color=colour, label=f"{percentile}, {ladder['config']}")
    axis.axhline(100, color="grey", linewidth=0.8, linestyle=":")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xticks([25, 50, 100, 200, 400])
    axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    axis.get_xaxis().set_minor_formatter(matplotlib.ticker.NullFormatter())
    axis.set_xlabel("offered rate (messages per second)")
    axis.set_ylabel("send → delivery (ms)")
    axis.set_title("Parley: delivery latency against offered rate")
    axis.legend(fontsize=8)
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(os.path.join(out, "latency.png"))
    plt.close(figure)


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
        ladder = figures.get(key)
        if not ladder:
            continue
        lines += [
            f"## Rate ladder, {ladder['config']} ({ladder['web']} web process(es), {ladder['chat_workers']} chat "
            f"worker(s))",
            "",
            f"{ladder['pairs']} pairs talking ({2 * ladder['pairs']} active sockets) and {ladder['idle']} idle "
            f"signed-in sockets; open-loop sends as the chat form's htmx POST. Knee: **{ladder['knee']} msg/s** "
            "(the highest rate with p99 delivery ≤ 100 ms, every message delivered within 10 s, none doubled or "
            "refused). Messages saved "
            f"in MongoDB: {ladder['saved_messages']} (all sends, warm-up included).",
            "",
            ladder_table(ladder),
            "",
        ]
        if key == "ladder":
            lines += ["![Delivery latency against offered rate](latency.png)", ""]
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
    axis.set_xlabel("data size (messages, people, chats or contacts)")
    axis.set_ylabel("median ms")
    axis.set_title("Parley: cost of each path as its data grows")
    axis.legend(fontsize=8)
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(os.path.join(out, "growth.png"))
    plt.close(figure)
