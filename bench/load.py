"""A load process (`python -m bench.load`): opens real pages' live connections
and sends messages as the chat form's htmx POST does, on a schedule.

It reads its plan as one JSON line on stdin, then commands, one per line:
"step N T" runs step N starting at wall time T, "finish" waits for late
deliveries and writes the results as one JSON line on stdout. It reports
"ready" when every socket is open and "done N" after each step's sends.
"""

import asyncio
import json
import random
import re
import sys
import time
import uuid

import aiohttp
import uvloop

MESSAGE_ID = re.compile(r'id="m-([0-9a-f]{32})"')
CONNECT_AT_ONCE = 100
LATE = 10.0  # seconds: a message not delivered by then counts as lost to its reader
VIEWING_RENEWAL = 20  # seconds, as parley.js


def say(line):
    print(line, flush=True)


class Page:
    """One person's open page: its WebSocket, and when messages reached it."""

    def __init__(self, load, person, chat=None):
        self.load = load
        self.person = person
        self.chat = chat
        self.ws = None

    async def open(self):
        self.ws = await self.load.http.ws_connect(
            self.load.base.replace("http", "ws", 1) + "/ws",
            headers={"Cookie": self.person["cookie"], "Origin": self.load.base},
            compress=0,
            autoping=True,
            max_msg_size=0,
        )
        hello = {
            "type": "hello",
            "after": "0-0",
            "page": uuid.uuid4().hex,
            "chat": self.chat,
            "visible": self.chat is not None,
            "fresh": True,
        }
        await self.ws.send_str(json.dumps(hello))
        loop = asyncio.get_running_loop()
        loop.create_task(self.listen())
        if self.chat:
            loop.create_task(self.keep_viewing())

    async def keep_viewing(self):
        """What the page's script does while the chat is in front of the person
        (pages opened at different moments renew at different moments)."""
        await asyncio.sleep(random.uniform(0, VIEWING_RENEWAL))
        while not self.ws.closed:
            try:
                await self.ws.send_str(json.dumps({"type": "viewing", "visible": True}))
            except ConnectionError:  # the page is closing
                return
            await asyncio.sleep(VIEWING_RENEWAL)

    async def listen(self):
        async for frame in self.ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            arrived = time.perf_counter()
            push = json.loads(frame.data)
            for client_id in MESSAGE_ID.findall(push.get("content", "")):
                sent = self.load.sent.get(client_id)
                if sent is None or sent["receiver"] is not self:
                    continue
                ids = sent.setdefault("stream_ids", set())
                ids.add(push.get("id"))
                sent.setdefault("arrived", arrived)


class Load:
    def __init__(self, plan):
        self.plan = plan
        self.base = plan["base"]
        self.http = None
        self.sent = {}  # client_id -> what we know of that message
        self.pairs = []
        self.tasks = set()

    async def connect(self):
        limiter = asyncio.Semaphore(CONNECT_AT_ONCE)
        pages = []
        for pair in self.plan.get("pairs", []):
            first, second = (Page(self, person, pair["chat"]) for person in pair["people"])
            self.pairs.append((pair["chat"], first, second))
            pages += [first, second]
        pages += [Page(self, person) for person in self.plan.get("idle", [])]

        async def open_one(page):
            async with limiter:
                await page.open()

        started = time.perf_counter()
        await asyncio.gather(*(open_one(page) for page in pages))
        return time.perf_counter() - started, len(pages)

    async def send(self, chat, sender, receiver, step, measured):
        client_id = uuid.uuid4().hex
        record = {"receiver": receiver, "step": step, "measured": measured}
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
                await response.read()
                record["status"] = response.status
        except Exception as error:  # counted as an error, like a failed send in a browser
            record["status"] = repr(error)
        record["answered"] = time.perf_counter()
        return client_id

    async def step(self, number, start_at, rate, seconds, warmup):
        """Open loop: sends go out on schedule, whatever the answers."""
        count = int(rate * seconds)
        loop = asyncio.get_running_loop()
        start = loop.time() + max(0.0, start_at - time.time())
        for k in range(count):
            await asyncio.sleep(max(0.0, start + k / rate - loop.time()))
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
        for record in self.sent.values():
            if not record["measured"]:
                continue
            step = steps.setdefault(
                str(record["step"]), {"sent": 0, "errors": 0, "lost": 0, "doubled": 0, "post_ms": [], "delivery_ms": []}
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
            if len(record["stream_ids"]) > 1:
                step["doubled"] += 1
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
                if command[0] == "step":
                    number, start_at, rate, seconds, warmup = command[1:]
                    await self.step(int(number), float(start_at), float(rate), float(seconds), float(warmup))
                elif command[0] == "sequential":
                    await self.sequential(int(command[1]), int(command[2]), float(command[3]))
            deadline = time.perf_counter() + LATE
            while time.perf_counter() < deadline and (
                self.tasks or any(r.get("status") == 200 and "arrived" not in r for r in self.sent.values())
            ):
                await asyncio.sleep(0.1)
            say(json.dumps({"results": self.results()}))


def main():
    plan = json.loads(sys.stdin.readline())
    # uvloop: the load shares the machine with what it measures, so it should cost little.
    uvloop.run(Load(plan).run())


if __name__ == "__main__":
    main()
