"""What one account's abuse costs everyone else, measured on a real web
process (issue 30): parallel image bombs (the web process's memory, and the
CPU of an animation of 50,000 frames) and a flood of event streams (how
long another person's chat page takes meanwhile).

python -m bench.abuse uploads
python -m bench.abuse streams [--streams 2500]
"""

import argparse
import http.client
import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psutil

from bench import seed
from bench.system import System
from tests.support.images import many_frames_gif, png_bomb


def _memory(process, field):
    """VmRSS (now) or VmHWM (the peak so far) of a process, in MB."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def _post_image(url, chat, credentials, data, name):
    boundary = uuid.uuid4().hex
    parts = [("client_id", uuid.uuid4().hex), ("text", ""), ("alt", "")]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in parts
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    headers = {
        "Cookie": credentials["cookie"],
        "HX-Request": "true",
        "X-CSRFToken": credentials["csrf"],
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    connection.request("POST", f"/chats/{chat}/messages", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def uploads(parallel=12):
    """The web process's memory before and at its peak while one account
    uploads `parallel` 5 KB PNGs of 40 megapixels at once; the CPU one
    upload of a 50,000-frame GIF costs it."""
    system = System(web_workers=1, chat_workers=0)
    try:
        app = system.app()
        sender, receiver = seed.people(app, 2, "bomber")
        [chat] = seed.chats_between(app, [(sender, receiver)])
        credentials = seed.credentials(app, sender)
        [web] = system.web_workers()
        _post_image(system.url, chat, credentials, png_bomb(100, 100), "warm.png")
        time.sleep(1)
        before = _memory(web, "VmRSS")
        bomb = png_bomb()
        started = time.monotonic()
        with ThreadPoolExecutor(parallel) as pool:
            sends = [pool.submit(_post_image, system.url, chat, credentials, bomb, "bomb.png") for _ in range(parallel)]
            statuses = [send.result() for send in sends]
        took = time.monotonic() - started
        peak = _memory(web, "VmHWM")
        cpu = psutil.Process(web.pid).cpu_times()
        frames_status = _post_image(system.url, chat, credentials, many_frames_gif(50_000), "frames.gif")
        after = psutil.Process(web.pid).cpu_times()
        return {
            "bomb_bytes": len(bomb),
            "parallel": parallel,
            "statuses": statuses,
            "seconds": round(took, 2),
            "web_rss_before_mb": round(before),
            "web_peak_mb": round(peak),
            "added_mb": round(peak - before),
            "frames_gif_status": frames_status,
            "frames_gif_cpu_s": round(after.user + after.system - cpu.user - cpu.system, 2),
        }
    finally:
        system.stop()


FLOOD = """
import asyncio, sys, time
host, port, cookie, count, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
opened = closed = 0
answered = set()

async def stream(n, until):
    # One page's event stream, opened again whenever it ends, as EventSource does (after `retry`).
    global opened, closed
    while time.monotonic() < until:
        retry = 1.0
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write((f"GET /events?page=flood{n} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\nCookie: {cookie}\\r\\n"
                          f"Accept: text/event-stream\\r\\nSec-Fetch-Site: same-origin\\r\\n\\r\\n").encode())
            await writer.drain()
            opened += 1
            while time.monotonic() < until:
                line = await asyncio.wait_for(reader.readline(), until - time.monotonic())
                if not line:
                    break
                answered.add(n)
                if line.startswith(b"retry: "):
                    retry = int(line[7:]) / 1000
            writer.close()
        except (OSError, asyncio.TimeoutError):
            pass
        closed += 1
        await asyncio.sleep(retry)

async def main():
    until = time.monotonic() + seconds
    tasks = []
    for n in range(count):
        tasks.append(asyncio.create_task(stream(n, until)))
        if n % 100 == 99:
            await asyncio.sleep(0.05)
    settled = time.monotonic() + 30
    while len(answered) < count and time.monotonic() < settled:
        await asyncio.sleep(0.1)
    print("ready", len(answered), flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(opened, closed, flush=True)

asyncio.run(main())
"""


def _asked(url, path, cookie, seconds, every):
    """([ms], {status: count}) of GET `path` every `every` seconds for `seconds`."""
    from bench.scenarios import get

    took, statuses = [], {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            get(url, path, cookie)
            status = 200
        except RuntimeError as error:
            status = str(error).rsplit(" ", 1)[1]
        except OSError:
            status = "timeout"
        took.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        time.sleep(every)
    return took, statuses


def streams(count=2500, seconds=60, every=0.1):
    """Another person's chat page, asked for every `every` seconds for
    `seconds` while one account holds `count` event streams open (each
    opened again when it ends, after the `retry` it was told, as a
    browser's EventSource does), once each has had its first answer (or
    30 s have passed): its latency and its answers."""
    import subprocess
    import sys

    system = System(web_workers=1, chat_workers=0)
    try:
        app = system.app()
        flooder, reader, writer = seed.people(app, 3, "flood")
        [chat] = seed.chats_between(app, [(reader, writer)])
        seed.history(app, chat, reader, writer, 50)
        flood_cookie = seed.credentials(app, flooder)["cookie"]
        reader_cookie = seed.credentials(app, reader)["cookie"]
        quiet = _asked(system.url, f"/chats/{chat}", reader_cookie, seconds / 2, every)[0]  # no flood, same machine
        parts = urlsplit(system.url)
        flood = subprocess.Popen(
            [sys.executable, "-c", FLOOD, parts.hostname, str(parts.port), flood_cookie, str(count), str(seconds + 40)],
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        answered = int(flood.stdout.readline().split()[1])
        settled_after = time.monotonic() - started
        [web] = system.web_workers()
        cpu = web.cpu_times()
        took, statuses = _asked(system.url, f"/chats/{chat}", reader_cookie, seconds, every)
        used = web.cpu_times()
        web_cpu = (used.user + used.system - cpu.user - cpu.system) / seconds
        opened, closed = (int(n) for n in flood.communicate(timeout=seconds + 120)[0].split())
        took.sort()
        quiet.sort()
        return {
            "streams": count,
            "streams_answered_s": round(settled_after, 1),
            "streams_answered": answered,
            "streams_opened": opened,
            "streams_ended": closed,
            "quiet_median_ms": round(statistics.median(quiet), 1),
            "quiet_p99_ms": round(quiet[int(0.99 * (len(quiet) - 1))], 1),
            "tries": len(took),
            "statuses": statuses,
            "median_ms": round(statistics.median(took), 1),
            "p99_ms": round(took[int(0.99 * (len(took) - 1))], 1),
            "max_ms": round(took[-1], 1),
            "web_cpu_percent": round(100 * web_cpu, 1),
            "load_average": round(psutil.getloadavg()[0], 1),
        }
    finally:
        system.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["uploads", "streams"])
    parser.add_argument("--streams", type=int, default=2500)
    arguments = parser.parse_args(argv)
    if arguments.scenario == "uploads":
        figures = uploads()
    else:
        figures = streams(arguments.streams)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
