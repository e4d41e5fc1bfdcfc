"""Changes: what an edit and a delete cost the web process next to a send,
while other people send at a steady rate (100 msg/s by default) in chats of
their own. Each is the chat page's own POST (htmx), timed by Server-Timing;
the chat worker applies them behind the same queue."""

import http.client
import statistics
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

from bench import seed
from bench.scenarios import post_timings, progress, server_timing
from bench.system import System


def post(url, path, credentials, fields, expected):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {
        "Cookie": credentials["cookie"],
        "HX-Request": "true",
        "X-CSRFToken": credentials["csrf"],
        "Content-Type": "application/x-www-form-urlencoded",
    }
    connection.request("POST", path, body=urlencode(fields), headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != expected:
        raise RuntimeError(f"POST {path} answered {response.status}")
    return server_timing(response)["total"]


def background_sends(url, chat, credentials, rate, stop):
    """Sends at `rate` a second until `stop` is set; returns how many went."""
    sent, started = [0], time.monotonic()

    def run():
        while not stop.is_set():
            post(url, f"/chats/{chat}/messages", credentials, {"client_id": uuid.uuid4().hex, "text": "load"}, 200)
            sent[0] += 1
            time.sleep(max(0.0, started + sent[0] / rate - time.monotonic()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, sent


def saved_messages(app, chat_id, sender_id, count, timeout=30):
    from app.connections import db

    deadline = time.monotonic() + timeout
    with app.app_context():
        while True:
            found = list(db().messages.find({"chat_id": chat_id, "sender_id": sender_id}, {"client_id": 1}))
            if len(found) >= count or time.monotonic() > deadline:
                return [doc["client_id"] for doc in found]
            time.sleep(0.2)


def median(values):
    return round(statistics.median(values), 2)


def changes(requests=100, rate=100):
    """Server-time p50 and p95 of a send, an edit and a delete, with `rate` msg/s of other sends going on."""
    system = System(web_workers=1, chat_workers=1, server_timing=True)
    try:
        app = system.app()
        editor, other, loader, loaded = seed.people(app, 4, "editor")
        chat, busy = seed.chats_between(app, [(editor, other), (loader, loaded)])
        me, load = seed.credentials(app, editor), seed.credentials(app, loader)
        system.settle()
        stop = threading.Event()
        thread, sent = background_sends(system.url, busy, load, rate, stop)
        time.sleep(2)  # the load under way
        progress(f"changes: {requests} sends, edits and deletes beside {rate} msg/s")
        figures = {"rate": rate, "requests": requests}
        figures["send"] = post_timings(system.url, chat, me, requests)["server_ms"]
        client_ids = saved_messages(app, chat, editor["_id"], requests)
        for kind, fields, expected in (
            ("edit", lambda: {"text": "Edited text.", "client_id": uuid.uuid4().hex}, 204),
            ("delete", dict, 204),
        ):
            took = [
                post(system.url, f"/chats/{chat}/messages/{client_id}/{kind}", me, fields(), expected)
                for client_id in client_ids
            ]
            figures[kind] = {"median": median(took), "p95": round(sorted(took)[int(0.95 * len(took))], 2)}
        stop.set()
        thread.join()
        figures["background_sends"] = sent[0]
        return figures
    finally:
        system.stop()


if __name__ == "__main__":
    import json

    print(json.dumps(changes(), indent=2))
