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
from bench.scenarios import progress, server_timing
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
    timing = server_timing(response)
    return timing["total"], timing.get("db", 0.0)


def background_sends(url, chat, credentials, rate, stop, senders=4):
    """Sends at `rate` a second (from `senders` threads) until `stop` is set; returns the threads and how many went."""
    sent, started, lock = [0], time.monotonic(), threading.Lock()

    def run():
        while not stop.is_set():
            with lock:
                sent[0] += 1
                due = started + sent[0] / rate
            time.sleep(max(0.0, due - time.monotonic()))
            post(url, f"/chats/{chat}/messages", credentials, {"client_id": uuid.uuid4().hex, "text": "load"}, 200)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    return threads, sent


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
        progress(f"changes: {requests} sends, edits and deletes beside {rate} msg/s")
        figures = {"rate": rate, "requests": requests}
        for _ in range(requests):  # the messages to change, saved before the timing starts
            post(system.url, f"/chats/{chat}/messages", me, {"client_id": uuid.uuid4().hex, "text": "To change."}, 200)
        client_ids = saved_messages(app, chat, editor["_id"], requests)
        threads, sent = background_sends(system.url, busy, load, rate, stop)
        time.sleep(2)  # the load under way
        began = time.monotonic()
        timings = {"send": [], "edit": [], "delete": []}
        # Interleaved, so that each kind meets the same moments of a shared machine.
        for client_id in client_ids:
            send = {"client_id": uuid.uuid4().hex, "text": "Timed message."}
            timings["send"].append(post(system.url, f"/chats/{chat}/messages", me, send, 200))
            edit = {"text": "Edited text.", "client_id": uuid.uuid4().hex}
            timings["edit"].append(post(system.url, f"/chats/{chat}/messages/{client_id}/edit", me, edit, 204))
            timings["delete"].append(post(system.url, f"/chats/{chat}/messages/{client_id}/delete", me, {}, 204))
        for kind, measured in timings.items():
            took = sorted(total for total, _ in measured)
            figures[kind] = {
                "median": median(took),
                "p95": took[int(0.95 * len(took))],
                "db_median": median([db for _, db in measured]),
            }
        stop.set()
        for thread in threads:
            thread.join()
        figures["background_rate"] = round(sent[0] / (time.monotonic() - began + 2), 1)
        return figures
    finally:
        system.stop()


if __name__ == "__main__":
    import json

    print(json.dumps(changes(), indent=2))
