"""The benchmark scenarios. Each starts its own system, drives it from
separate load processes, stops everything it started, and returns figures."""

import gzip
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import psutil

from bench import seed, trace
from bench.system import ROOT, Sampler, System


def progress(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def percentiles(values):
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    ordered = sorted(values)

    def at(q):
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 2), "n": len(ordered)}


class LoadProcess:
    """A `python -m bench.load` child: a plan in, commands in, results out."""

    def __init__(self, plan):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.load"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.tell(json.dumps(plan))
        self.psutil = psutil.Process(self.process.pid)

    def tell(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("a load process ended early")
            if line.startswith(prefix):
                return line
        raise RuntimeError(f"no {prefix!r} from a load process within {timeout}s")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def split(items, parts):
    return [items[n::parts] for n in range(parts)]


def rate_ladder(
    web=1,
    workers=1,
    pairs=100,
    idle=800,
    rates=(25, 50, 100, 200, 400),
    warmup=5,
    measure=20,
    load_processes=2,
    label="1+1",
):
    """Offered rates, open loop, on `pairs` talking pairs among `2 * pairs + idle` open pages,
    with the messages' stages and the processes' stalls traced (see bench/trace.py)."""
    traces = tempfile.mkdtemp(prefix="parley-trace-")
    system = System(web_workers=web, chat_workers=workers, env={"TRACE_DIR": traces})
    loads = []
    try:
        names = {process.pid: name for name, process in system.watched().items()}
        app = system.app()
        progress(f"ladder {label}: preparing {2 * pairs + idle} people")
        talkers = seed.people(app, 2 * pairs, "talker")
        quiet = seed.people(app, idle, "idle")
        chat_ids = seed.chats_between(app, list(zip(talkers[::2], talkers[1::2])))
        seed.chats_between(app, list(zip(quiet[::2], quiet[1::2])))  # idle people have a contact too

        def person(user):
            return seed.credentials(app, user)

        pair_plans = [
            {"chat": str(chat), "people": [person(a), person(b)]}
            for chat, a, b in zip(chat_ids, talkers[::2], talkers[1::2])
        ]
        idle_plans = [person(user) for user in quiet]
        for pair_share, idle_share in zip(split(pair_plans, load_processes), split(idle_plans, load_processes)):
            loads.append(LoadProcess({"base": system.url, "pairs": pair_share, "idle": idle_share}))
        ready = [json.loads(load.expect("{", 120)) for load in loads]
        system.settle()
        progress(f"ladder {label}: {sum(r['sockets'] for r in ready)} sockets open")
        progress(f"ladder {label}: measuring the open pages with no messages")
        sampler = Sampler(system)
        time.sleep(measure)
        at_rest = sampler.stop()["processes"]
        steps = []
        for number, rate in enumerate(rates):
            start_at = time.time() + 1.0
            for load in loads:
                load.tell(f"step {number} {start_at} {rate / load_processes} {warmup + measure} {warmup}")
            time.sleep(max(0.0, start_at - time.time()) + warmup)
            sampler = Sampler(system, {f"load{n}": load.psutil for n, load in enumerate(loads, start=1)})
            profiles = profile(sampler.processes, f"{label}-{rate}", measure)
            for left in range(int(measure), 0, -5):
                progress(f"ladder {label}: {rate} msg/s, measuring, {left} s left")
                time.sleep(min(5, left))
            usage = sampler.stop()
            for process in profiles:
                process.wait()
            for load in loads:
                load.expect("done", 60)
            steps.append({"rate": rate, "window": [start_at + warmup, start_at + warmup + measure], **usage})
        for load in loads:
            load.tell("finish")
        results = [json.loads(load.expect('{"results"', 120))["results"] for load in loads]
        for number, step in enumerate(steps):
            parts = [r.get(str(number), {}) for r in results]
            post = [v for p in parts for v in p.get("post_ms", [])]
            delivery = [v for p in parts for v in p.get("delivery_ms", [])]
            step.update(
                {
                    "sent": sum(p.get("sent", 0) for p in parts),
                    "errors": sum(p.get("errors", 0) for p in parts),
                    "lost": sum(p.get("lost", 0) for p in parts),
                    "doubled": sum(p.get("doubled", 0) for p in parts),
                    "post_ms": percentiles(post),
                    "delivery_ms": percentiles(delivery),
                    "timed": [d for p in parts for d in p.get("timed", [])],
                }
            )
        for step, traced in zip(steps, trace.analyse(traces, names, steps)):
            del step["timed"]
            step["trace"] = traced
        with app.app_context():
            from app.connections import db

            saved = db().messages.count_documents({"chat_id": {"$in": chat_ids}})
        accepted = sum(s["sent"] - s["errors"] for s in steps)
        for step in steps:
            step["good"] = good(step)
        knee = max((s["rate"] for s in steps if s["good"]), default=None)
        return {
            "config": label,
            "web": web,
            "chat_workers": workers,
            "pairs": pairs,
            "idle": idle,
            "at_rest": at_rest,
            "steps": steps,
            "knee": knee,
            "saved_messages": saved,
            "accepted_measured": accepted,
        }
    finally:
        for load in loads:
            load.stop()
        system.stop()
        shutil.rmtree(traces, ignore_errors=True)


def profile(processes, label, seconds):
    """With BENCH_PROFILE=web1,chat_worker1 (names as in the report), record
    py-spy profiles of those processes over the measured window, into /tmp."""
    wanted = [name for name in os.environ.get("BENCH_PROFILE", "").split(",") if name in processes]
    started = []
    for name in wanted:
        path = f"/tmp/profile-{label}-{name}.txt"
        started.append(
            subprocess.Popen(
                [
                    os.path.join(os.path.dirname(sys.executable), "py-spy"),
                    "record",
                    "--pid",
                    str(processes[name].pid),
                    "--duration",
                    str(int(seconds)),
                    "--format",
                    "raw",
                    "--output",
                    path,
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        progress(f"profiling {name} into {path}")
    return started


def good(step):
    """A rate the system carries: p99 within 100 ms, nothing lost, doubled or refused."""
    p99 = step["delivery_ms"]["p99"]
    return p99 is not None and p99 <= 100 and not step["lost"] and not step["doubled"] and not step["errors"]


def idle_sockets(count=5000, load_processes=2, messages=50, system=None):
    """`count` signed-in sockets on one web process: connect time, memory, and a delivery while they are open.
    On `system` if given (and left running), else on one of its own."""
    own = system is None
    system = system or System(web_workers=1, chat_workers=1)
    loads = []
    try:
        app = system.app()
        progress(f"idle: preparing {count} people")
        crowd = seed.people(app, count, "crowd")
        seed.chats_between(app, list(zip(crowd[::2], crowd[1::2])))
        talkers = seed.people(app, 2, "talker")
        [chat] = seed.chats_between(app, [(talkers[0], talkers[1])])
        plans = [seed.credentials(app, user) for user in crowd]
        pair = {"chat": str(chat), "people": [seed.credentials(app, user) for user in talkers]}
        [worker] = system.web_workers()
        time.sleep(1)
        before = worker.memory_info().rss
        cpu_before = sum(worker.cpu_times()[:2])
        progress(f"idle: opening {count} sockets")
        started = time.perf_counter()
        for n, share in enumerate(split(plans, load_processes)):
            loads.append(LoadProcess({"base": system.url, "idle": share, "pairs": [pair] if n == 0 else []}))
        ready = [json.loads(load.expect("{", 180)) for load in loads]
        handshakes = time.perf_counter() - started
        opened = sum(r["sockets"] for r in ready)
        # Connected means taken in by the server (subscribed, recorded for
        # presence, contacts told), not just past the WebSocket handshake.
        deadline = time.monotonic() + 180
        while attached(app) < opened and time.monotonic() < deadline:
            time.sleep(0.05)
        took = time.perf_counter() - started
        connect_cpu = sum(worker.cpu_times()[:2]) - cpu_before
        time.sleep(3)
        after = worker.memory_info().rss
        progress(f"idle: {opened} connected in {took:.1f} s; sending {messages} messages")
        loads[0].tell(f"sequential 0 {messages} 0.1")
        loads[0].expect("done", 120)
        for load in loads:
            load.tell("finish")
        results = [json.loads(load.expect('{"results"', 60))["results"] for load in loads]
        delivery = results[0].get("0", {})
        return {
            "sockets": count,
            "connected": attached(app),
            "handshake_seconds": round(handshakes, 2),
            "connect_seconds": round(took, 2),
            "connect_cpu_seconds": round(connect_cpu, 2),
            "rss_before_mb": round(before / 1e6, 1),
            "rss_after_mb": round(after / 1e6, 1),
            "kb_per_socket": round((after - before) / count / 1024, 1),
            "delivery_ms": percentiles(delivery.get("delivery_ms", [])),
            "lost": delivery.get("lost", 0),
        }
    finally:
        for load in loads:
            load.stop()
        if own:
            system.stop()


def attached(app):
    """The open pages the web processes have taken in, as presence records them."""
    from app.connections import redis_client
    from app.realtime import presence

    with app.app_context():
        client = redis_client()
        processes = client.zrange(presence.processes_key(), 0, -1)
        return sum(client.scard(presence.process_key(process)) for process in processes)


def get(url, path, cookie=None, htmx=False, encoding=None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if htmx:
        headers["HX-Request"] = "true"
    if encoding:
        headers["Accept-Encoding"] = encoding
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    took = (time.perf_counter() - started) * 1000
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}")
    return body, took, server_timing(response), response


def server_timing(response):
    """{name: ms} from the response's Server-Timing header."""
    parts = (part.strip().split(";dur=") for part in response.getheader("Server-Timing", "").split(",") if part)
    return {name: float(value) for name, value in parts}


def timing_figures(totals, dbs, clients, html_bytes):
    """Server time (median, p95), how much of it was the database, and what the client saw."""
    return {
        "server_ms": {
            "median": round(statistics.median(totals), 2),
            "p95": round(sorted(totals)[int(0.95 * len(totals))], 2),
        },
        "db_ms_median": round(statistics.median(dbs), 2),
        "app_ms_median": round(statistics.median(t - d for t, d in zip(totals, dbs)), 2),
        "client_ms_median": round(statistics.median(clients), 2),
        "html_bytes": html_bytes,
    }


def pages(requests=50, system=None):
    """Server time of the heaviest pages, and what a first visit downloads.
    On `system` if given (server timing on, left running), else on one of its own."""
    own = system is None
    system = system or System(web_workers=1, chat_workers=1, server_timing=True)
    try:
        app = system.app()
        progress("pages: preparing a 1,000-message chat, 100 chats and 1,000 people")
        reader, writer = seed.people(app, 2, "reader")
        [long_chat] = seed.chats_between(app, [(reader, writer)])
        seed.history(app, long_chat, reader, writer, 1000)
        busy = seed.people(app, 1, "busy")[0]
        friends = seed.people(app, 100, "friend")
        chat_ids = seed.chats_between(app, [(busy, friend) for friend in friends])
        for chat, friend in zip(chat_ids, friends):
            seed.history(app, chat, friend, busy, 3, seen=False)
        seed.people(app, 1000, "searchable")
        reader_credentials = seed.credentials(app, reader)
        reader_cookie = reader_credentials["cookie"]
        busy_cookie = seed.credentials(app, busy)["cookie"]
        measured = {
            "chat page (newest 50 of 1,000)": (f"/chats/{long_chat}", reader_cookie, False),
            "Load earlier messages (50)": (f"/chats/{long_chat}/messages?older_than=951", reader_cookie, True),
            "Chats navigation (100 chats)": ("/", busy_cookie, False),
            "people search (1,100 people)": ("/people?q=searchable1", busy_cookie, True),
        }
        figures = {}
        for name, (path, cookie, htmx) in measured.items():
            progress(f"pages: {name}")
            get(system.url, path, cookie, htmx)  # warm
            totals, dbs, clients, sizes = [], [], [], []
            for _ in range(requests):
                body, took, timing, _ = get(system.url, path, cookie, htmx)
                totals.append(timing["total"])
                dbs.append(timing["db"])
                clients.append(took)
                sizes.append(len(body))
            figures[name] = timing_figures(totals, dbs, clients, sizes[0])
        progress("pages: POST a message")
        figures["POST a message (1,000-message chat)"] = post_timings(
            system.url, long_chat, reader_credentials, requests
        )
        progress("pages: POST a message through the API")
        figures["POST /api/v1/message (1,000-message chat)"] = post_timings(
            system.url, long_chat, reader_credentials, requests, api=True
        )
        first_loads = {
            "sign-in page": first_load(system.url, "/signin", None),
            "chat page": first_load(system.url, f"/chats/{long_chat}", reader_cookie),
        }
        return {"pages": figures, "first_load": first_loads}
    finally:
        if own:
            system.stop()


def post_timings(url, chat, credentials, requests, api=False):
    """Sending, as the chat form's htmx POST does, on the long chat: the answer does not read its history.
    With `api`, as the original system's clients do (POST /api/v1/message, multipart, 201)."""
    import uuid
    from urllib.parse import urlencode

    parts = urlsplit(url)
    totals, dbs, clients = [], [], []
    for _ in range(requests):
        if api:
            path, expected = "/api/v1/message", 201
            body = (
                "--b\r\nContent-Disposition: form-data; name=\"chatId\"\r\n\r\n" + str(chat) + "\r\n"
                "--b\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nTimed message.\r\n--b--\r\n"
            )
            headers = {"Cookie": credentials["cookie"], "Content-Type": "multipart/form-data; boundary=b"}
        else:
            path, expected = f"/chats/{chat}/messages", 200
            body = urlencode({"client_id": uuid.uuid4().hex, "text": "Timed message.", "alt": ""})
            headers = {
                "Cookie": credentials["cookie"],
                "HX-Request": "true",
                "X-CSRFToken": credentials["csrf"],
                "Content-Type": "application/x-www-form-urlencoded",
            }
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        clients.append((time.perf_counter() - started) * 1000)
        connection.close()
        if response.status != expected:
            raise RuntimeError(f"POST answered {response.status}")
        timing = server_timing(response)
        totals.append(timing["total"])
        dbs.append(timing["db"])
    return timing_figures(totals, dbs, clients, 0)


def first_load(url, path, cookie):
    """Bytes on the wire (compressed) for a first visit: the HTML and the CSS and JavaScript it loads."""
    import re

    body, _, _, response = get(url, path, cookie, encoding="br, gzip")
    html = decode(body, response)
    parts = {"html": len(body)}
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        asset_body, _, _, _ = get(url, asset, encoding="br, gzip")
        parts[asset.split("?")[0].rsplit("/", 1)[1]] = len(asset_body)
    return {"bytes": sum(parts.values()), "parts": parts}


def decode(body, response):
    encoding = response.getheader("Content-Encoding")
    if encoding == "br":
        import brotli

        return brotli.decompress(body).decode()
    if encoding == "gzip":
        return gzip.decompress(body).decode()
    return body.decode()


def machine():
    """What the figures were measured on."""

    def version(command):
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except Exception:
            return "unknown"

    from importlib.metadata import version as package

    cpu = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        cpu = next(
            (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
            "unknown",
        )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "os": version(["uname", "-sr"]),
        "python": sys.version.split()[0],
        "redis": version(["redis-server", "--version"]),
        "rabbitmq": version(["rabbitmqctl", "version"]),
        "packages": {
            name: package(name)
            for name in (
                "SecantusDB",
                "Flask",
                "gunicorn",
                "gevent",
                "flask-sock",
                "pymongo",
                "redis",
                "pika",
                "aiohttp",
            )
        },
    }
