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
            statuses = list(pool.map(lambda _: _post_image(system.url, chat, credentials, bomb, "bomb.png"), range(parallel)))
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
