"""A load process (`python -m bench.load`): opens real pages' live connections
and sends messages as the chat form's htmx POST does, on a schedule.

It reads its plan as one JSON line on stdin, then commands, one per line:
"step N T RATE SECONDS WARMUP" runs step N starting at wall time T, "stop"
ends the running step early, "finish" waits (`late` seconds at most) for
late deliveries and writes the results as one JSON line on stdout, with
every send and every page's closes when the plan asks for `records`. It
reports "ready" when every socket is open and "done N" after each step's sends.

A page whose socket closes reconnects as the page's script does, saying
hello with the last stream id it holds, and refreshes when told to.
"""

import asyncio
import html
import json
import random
import re
import sys
import time
import uuid

import aiohttp
import uvloop

from app import tracing

MESSAGE_ID = re.compile(r'id="m-([0-9a-f]{32})"')
MESSAGE_VERSION = re.compile(r'id="m-([0-9a-f]{32})"[^>]*data-version="(\d)"')  # 0 Sending, 1 Sent, 2 Seen
ALERT = re.compile(r'(?:role="alert"|class="(?:form-error|field-error)")[^>]*>\s*(?:<p>)?([^<]+)<')
FIRST_PARAGRAPH = re.compile(r"<p[^>]*>([^<]+)</p>")
CONNECT_AT_ONCE = 100
LATE = 10.0  # seconds: a message not delivered by then counts as lost to its reader
VIEWING_RENEWAL = 20  # seconds, as js/live.js
# What hx-ws (htmx 4.0.1) does when a page's socket closes: with one of these
# codes it connects again after 0.5 s, doubling to at most 60 s, ±30 %, and
# from 0.5 s again once a connection opens; any other code ends the page's live updates.
RECONNECT_CODES = {1001, 1005, 1006, 1011, 1012, 1013, 1014}
RECONNECT_DELAY = 0.5
RECONNECT_MAX_DELAY = 60.0
ABNORMAL_CLOSURE = 1006  # gone without a close frame


def say(line):
    print(line, flush=True)


def shown(body):
    """What a page shows of a refusal: its form error, or else the answer's first paragraph (an alert)."""
    found = ALERT.search(body) or FIRST_PARAGRAPH.search(body)
    return html.unescape(found.group(1)).strip() if found else body.strip()[:120]


def newer(stream_id, last_id):
    """Whether a push comes after the last one the page applied, as the page's script compares them."""
    (milliseconds, _, sequence), (last_ms, _, last_seq) = stream_id.partition("-"), last_id.partition("-")
    return (int(milliseconds), int(sequence or 0)) > (int(last_ms), int(last_seq or 0))


class Page:
    """One person's open page: its WebSocket, kept open as the page's script
    keeps it, and when messages reached it."""

    def __init__(self, load, person, chat=None):
        self.load = load
        self.person = person
        self.chat = chat
        self.ws = None
        self.id = uuid.uuid4().hex
        self.last_id = "0-0"
        self.fresh = True
        self.ended = None  # the close code that ended live updates for good
        self.events = []  # (wall time, what, detail): closes (code), reconnects, refreshes (status)
        self.pushes = 0
        self.last_push_at = None

    async def open(self):
        await self.connect()
        loop = asyncio.get_running_loop()
        loop.create_task(self.stay_open())
        if self.chat:
            loop.create_task(self.keep_viewing())

    async def connect(self):
        self.ws = await self.load.http.ws_connect(
            self.load.base.replace("http", "ws", 1) + "/ws",
            headers={"Cookie": self.person["cookie"], "Origin": self.load.base},
            compress=0,
            autoping=True,
            max_msg_size=0,
        )
        hello = {
            "type": "hello",
            "after": self.last_id,
            "page": self.id,
            "chat": self.chat,
            "visible": self.chat is not None,
            "fresh": self.fresh,
        }
        self.fresh = False
        await self.ws.send_str(json.dumps(hello))

    def happened(self, what, detail=None):
        self.events.append((round(time.time(), 3), what, detail))

    async def stay_open(self):
        """Read pushes; when the socket closes, connect again as hx-ws does."""
        while True:
            await self.listen()
            code = self.ws.close_code or ABNORMAL_CLOSURE
            self.happened("closed", code)
            if code not in RECONNECT_CODES:
                self.ended = code
                return
            attempt = 0
            while True:
                attempt += 1
                delay = min(RECONNECT_DELAY * 2 ** (attempt - 1), RECONNECT_MAX_DELAY)
                await asyncio.sleep(delay * random.uniform(0.7, 1.3))
                try:
                    await self.connect()
                except (TimeoutError, aiohttp.ClientError, OSError) as error:
                    self.happened("reconnect failed", getattr(error, "status", None) or type(error).__name__)
                    continue
                self.happened("reconnected")
                break

    async def keep_viewing(self):
        """What the page's script does while the chat is in front of the person
        (pages opened at different moments renew at different moments)."""
        await asyncio.sleep(random.uniform(0, VIEWING_RENEWAL))
        while self.ended is None:
            if not self.ws.closed:  # the script drops what it cannot send
                try:
                    await self.ws.send_str(json.dumps({"type": "viewing", "visible": True}))
                except ConnectionError:  # the page is closing
                    pass
            await asyncio.sleep(VIEWING_RENEWAL)

    async def listen(self):
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            push = json.loads(frame.data)
            self.pushes += 1
            self.last_push_at = time.time()
            if push.get("refresh"):
                self.last_id = push["id"]
                await self.refresh()
                continue
            if push.get("id"):
                if not newer(push["id"], self.last_id):
                    continue  # already applied: the page's script skips it
                self.last_id = push["id"]
            self.arrived(push.get("content", ""), push.get("id"), "push")

    async def refresh(self):
        """The page fetches its regions afresh over HTTP, once."""
        path = f"/chats/{self.chat}" if self.chat else "/"
        headers = {"Cookie": self.person["cookie"], "HX-Request": "true"}
        try:
            async with self.load.http.get(self.load.base + path, headers=headers) as response:
                body = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            self.happened("refreshed", type(error).__name__)
            return
        self.happened("refreshed", status)
        if status == 200:
            self.arrived(body, None, "refresh")

    def arrived(self, content, stream_id, how):
        arrived = time.perf_counter()
        for client_id, version in MESSAGE_VERSION.findall(content):
            sent = self.load.sent.get(client_id)
            if sent is not None and sent["sender"] is self and version != "0":  # no longer "Sending"
                sent.setdefault("updated", arrived)
        for client_id in MESSAGE_ID.findall(content):
            sent = self.load.sent.get(client_id)
            if sent is None or sent["receiver"] is not self:
                continue
            if stream_id:
                sent.setdefault("stream_ids", set()).add(stream_id)
            sent.setdefault("arrived", arrived)
            sent.setdefault("via", how)


def timed(deliveries):
    """(client_id, started, arrived) in wall time of the traced messages
    (tracing.sampled) and of the slowest 2 % (at least 10), for bench/trace.py."""
    slowest = sorted(deliveries, key=lambda d: d[1] - d[2])[: max(10, len(deliveries) // 50)]
    return sorted(set(slowest) | {d for d in deliveries if tracing.sampled(d[0])}, key=lambda d: d[1])


class Load:
    def __init__(self, plan):
        self.plan = plan
        self.base = plan["base"]
        self.http = None
        self.sent = {}  # client_id -> what we know of that message
        self.pairs = []
        self.pages = []
        self.tasks = set()
        self.stepping = None  # the running step's task
        self.stopping = False
        self.wall = time.time() - time.perf_counter()  # perf_counter + this = wall time, for `records`

    async def connect(self):
        limiter = asyncio.Semaphore(CONNECT_AT_ONCE)
        pages = []
        for pair in self.plan.get("pairs", []):
            first, second = (Page(self, person, pair["chat"]) for person in pair["people"])
            self.pairs.append((pair["chat"], first, second))
            pages += [first, second]
        pages += [Page(self, person) for person in self.plan.get("idle", [])]
        self.pages = pages

        async def open_one(page):
            async with limiter:
                await page.open()

        started = time.perf_counter()
        await asyncio.gather(*(open_one(page) for page in pages))
        return time.perf_counter() - started, len(pages)

    async def send(self, chat, sender, receiver, step, measured):
        client_id = uuid.uuid4().hex
        record = {"sender": sender, "receiver": receiver, "step": step, "measured": measured}
        self.sent[client_id] = record
        # As the composer sends a message without an image: a plain form.
        form = {
            "csrf_token": sender.person["csrf"],
            "client_id": client_id,
            "text": f"Benchmark message {client_id[:8]}, step {step}.",
            "alt": "",
        }
        headers = {
            "Cookie": sender.person["cookie"],
            "HX-Request": "true",
            "X-CSRFToken": sender.person["csrf"],
            "Origin": self.base,
        }
        record["started"] = time.perf_counter()
        try:
            async with self.http.post(f"{self.base}/chats/{chat}/messages", data=form, headers=headers) as response:
                body = await response.text()
                record["status"] = response.status
                if response.status != 200:
                    record["answer"] = shown(body)
        except Exception as error:  # counted as an error, like a failed send in a browser
            record["status"] = repr(error)
        record["answered"] = time.perf_counter()
        return client_id

    async def step(self, number, start_at, rate, seconds, warmup):
        """Open loop: sends go out on schedule, whatever the answers."""
        count = int(rate * seconds)
        loop = asyncio.get_running_loop()
        start = loop.time() + max(0.0, start_at - time.time())
        self.stopping = False
        for k in range(count):
            await asyncio.sleep(max(0.0, start + k / rate - loop.time()))
            if self.stopping:
                break
            chat, first, second = self.pairs[k % len(self.pairs)]
            sender, receiver = (first, second) if (k // len(self.pairs)) % 2 == 0 else (second, first)
            task = loop.create_task(self.send(chat, sender, receiver, number, k / rate >= warmup))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        say(f"done {number}")

    async def sequential(self, number, count, interval):
        """Closed loop, one message at a time, for delivery time on a quiet system."""
        chat, first, second = self.pairs[0]
        for _ in range(count):
            client_id = await self.send(chat, first, second, number, True)
            deadline = time.perf_counter() + LATE
            while "arrived" not in self.sent[client_id] and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            await asyncio.sleep(interval)
        say(f"done {number}")

    def results(self):
        steps = {}
        for client_id, record in self.sent.items():
            if not record["measured"]:
                continue
            step = steps.setdefault(
                str(record["step"]),
                {"sent": 0, "errors": 0, "lost": 0, "doubled": 0, "post_ms": [], "delivery_ms": [], "timed": []},
            )
            step["sent"] += 1
            if record.get("status") != 200:
                step["errors"] += 1
                continue
            step["post_ms"].append((record["answered"] - record["started"]) * 1000)
            if "arrived" not in record or record["arrived"] - record["started"] > LATE:
                step["lost"] += 1
                continue
            step["delivery_ms"].append((record["arrived"] - record["started"]) * 1000)
            if len(record.get("stream_ids", ())) > 1:
                step["doubled"] += 1
            step["timed"].append((client_id, record["started"] + self.wall, record["arrived"] + self.wall))
        for step in steps.values():
            step["timed"] = timed(step["timed"])
        return steps

    async def run(self):
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=timeout
        ) as self.http:
            took, count = await self.connect()
            say(json.dumps({"ready": True, "sockets": count, "connect_seconds": took}))
            loop = asyncio.get_running_loop()
            while True:
                command = (await loop.run_in_executor(None, sys.stdin.readline)).split()
                if not command or command[0] == "finish":
                    break
                if command[0] == "step":  # runs while the next commands are read, so "stop" can end it
                    number, start_at, rate, seconds, warmup = command[1:]
                    arguments = int(number), float(start_at), float(rate), float(seconds), float(warmup)
                    self.stepping = loop.create_task(self.step(*arguments))
                elif command[0] == "stop":
                    self.stopping = True
                elif command[0] == "sequential":
                    await self.sequential(int(command[1]), int(command[2]), float(command[3]))
            deadline = time.perf_counter() + self.plan.get("late", LATE)
            while time.perf_counter() < deadline and (
                self.tasks or any(r.get("status") == 200 and "arrived" not in r for r in self.sent.values())
            ):
                await asyncio.sleep(0.1)
            answer = {"results": self.results()}
            if self.plan.get("records"):
                answer.update(self.records())
            say(json.dumps(answer))

    def records(self):
        """Every send (times as wall times) and what happened to each page, for a fault run's report."""

        def wall(moment):
            return None if moment is None else round(moment + self.wall, 3)

        sends = [
            {
                "client_id": client_id,
                "receiver": self.pages.index(record["receiver"]),
                "status": record.get("status"),
                "answer": record.get("answer"),
                "started_at": wall(record.get("started")),
                "answered_at": wall(record.get("answered")),
                "arrived_at": wall(record.get("arrived")),
                "sender_updated_at": wall(record.get("updated")),
                "via": record.get("via"),
            }
            for client_id, record in self.sent.items()
        ]
        pages = [
            {"events": page.events, "ended": page.ended, "pushes": page.pushes, "last_push_at": page.last_push_at}
            for page in self.pages
        ]
        return {"sends": sends, "pages": pages}


def main():
    plan = json.loads(sys.stdin.readline())
    # uvloop: the load shares the machine with what it measures, so it should cost little.
    uvloop.run(Load(plan).run())


if __name__ == "__main__":
    main()
