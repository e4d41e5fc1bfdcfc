"""Growth: what each path costs as the data behind it grows. A path whose
cost follows the data where an index range or a bound could keep it flat
shows here as a column that climbs."""

import os
import shutil
import statistics
import tempfile
import time
from functools import partial

from bson import ObjectId

from bench import seed
from bench.scenarios import get, post_timings, progress
from bench.system import System
from sandbox.services import SecantusDB


def server_ms(url, path, cookie, htmx, requests):
    """Median server time (Server-Timing) of `requests` GETs, after one to warm."""
    get(url, path, cookie, htmx)
    return round(statistics.median(get(url, path, cookie, htmx)[2]["total"] for _ in range(requests)), 2)


def in_process_ms(work, requests):
    """Median time of `work()`, called `requests` times after one to warm."""
    work()
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        work()
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 2)


def growth(
    messages=(1_000, 10_000, 100_000),
    people=(1_000, 10_000, 100_000),
    chats=(10, 100, 1_000),
    requests=30,
    searched=(1_000, 10_000, 100_000),
    search_chats=1_000,
    only_search=False,
    system=None,
):
    """Each path at each size, on one web worker (`only_search`: message search alone).
    SecantusDB keeps its data on disk here: in memory, its cache overflowed
    (WT_CACHE_FULL) at about 100,000 messages with their search keys. On
    `system` if given (server timing on, left running), else on one of its own."""
    if system:
        return measure(system, messages, people, chats, requests, searched, search_chats, only_search)
    storage = tempfile.mkdtemp(prefix="bench-growth-")
    mongo = SecantusDB(storage_path=storage, log_path=os.path.join("/tmp", os.path.basename(storage) + ".log"))
    system = System(web_workers=1, chat_workers=1, server_timing=True, mongo=mongo)
    try:
        return measure(system, messages, people, chats, requests, searched, search_chats, only_search)
    finally:
        system.stop()
        mongo.stop()
        shutil.rmtree(storage, ignore_errors=True)


def measure(system, messages, people, chats, requests, searched, search_chats, only_search):
    app = system.app()
    figures = {"requests": requests}
    if not only_search:
        figures["chat page"], figures["Load earlier messages"] = history_paths(system, app, messages, requests)
        figures["people search"] = search_path(system, app, people, requests)
        figures.update(chat_list_paths(system, app, chats, requests))
    figures.update(message_search_paths(system, app, searched, search_chats, requests))
    return figures


def history_paths(system, app, sizes, requests):
    """The chat page (newest 50) and "Load earlier messages" (50 from the middle), by messages in the chat."""
    page, earlier = {}, {}
    for size in sizes:
        progress(f"growth: a chat of {size:,} messages")
        reader, writer = seed.people(app, 2, "reader")
        [chat] = seed.chats_between(app, [(reader, writer)])
        seed.history(app, chat, reader, writer, size)
        system.settle()
        cookie = seed.credentials(app, reader)["cookie"]
        page[size] = server_ms(system.url, f"/chats/{chat}", cookie, False, requests)
        earlier[size] = server_ms(system.url, f"/chats/{chat}/messages?older_than={size // 2}", cookie, True, requests)
    return page, earlier


def search_path(system, app, sizes, requests):
    """A search whose prefix every one of `size` people's names starts with (the first letters typed)."""
    searcher = seed.people(app, 1, "searcher")[0]
    cookie = seed.credentials(app, searcher)["cookie"]
    figures, made = {}, 0
    for size in sizes:
        progress(f"growth: {size:,} people to search")
        seed.people(app, size - made, "grown")
        seed.people_directory(app)
        system.settle()
        made = size
        figures[size] = server_ms(system.url, "/people?q=grown", cookie, True, requests)
    return figures


def chat_list_paths(system, app, sizes, requests):
    """By a person's number of chats: the Chats navigation, a send in one of
    their chats, and what a connect of theirs costs in presence (their
    contacts told, and the snapshot a reconnecting page gets), with one in
    ten of their contacts online."""
    from app.chats import live
    from app.realtime import presence

    names = ("Chats navigation", "send", "presence told on connect", "presence snapshot on reconnect")
    figures = {name: {} for name in names}
    process_id = "growth-bench"
    for size in sizes:
        progress(f"growth: a person with {size:,} chats")
        person = seed.people(app, 1, "hub")[0]
        friends = seed.people(app, size, "friend")
        chat_ids = seed.chats_between(app, [(person, friend) for friend in friends])
        credentials = seed.credentials(app, person)
        system.settle()
        figures["Chats navigation"][size] = server_ms(system.url, "/", credentials["cookie"], False, requests)
        figures["send"][size] = post_timings(system.url, chat_ids[0], credentials, requests)["server_ms"]["median"]
        with app.app_context():
            presence.heartbeat(process_id)
            for friend in friends[::10]:
                presence.connect(process_id, friend["_id"], presence.connection_id())
            told = partial(live.tell_contacts, person["_id"], True)
            figures["presence told on connect"][size] = in_process_ms(told, requests)
            snapshot = partial(live.presence_snapshot, person["_id"])
            figures["presence snapshot on reconnect"][size] = in_process_ms(snapshot, requests)
    return figures


SEARCHER_CHATS = 10  # of the chats, the searcher's; the rest are other people's


def message_search_paths(system, app, sizes, chat_count, requests):
    """Message search by messages in `chat_count` chats, the searcher in
    SEARCHER_CHATS of them: at each size a new searcher and new chats, each
    chat a message an hour, the newest half an hour ago (so the searcher's
    words come ten an hour). Two queries: words in every message ("message
    numb": the last word begun), and a word in none (every window read)."""
    from datetime import UTC, datetime, timedelta

    names = ("message search, words in every message", "message search, a word in none")
    figures = {name: {} for name in names}
    for size in sizes:
        progress(f"growth: message search over {size:,} messages in {chat_count:,} chats")
        searcher = seed.people(app, 1, "searcher")[0]
        friends = seed.people(app, chat_count, "talker")
        pairs = [(searcher, friend) for friend in friends[:SEARCHER_CHATS]]
        pairs += [(friends[n], friends[n - 1]) for n in range(SEARCHER_CHATS, chat_count)]
        chat_ids = seed.chats_between(app, pairs)
        cookie = seed.credentials(app, searcher)["cookie"]
        per_chat = size // chat_count
        newest = datetime.now(UTC) - timedelta(minutes=30)
        with app.app_context():
            docs = []
            for chat_id, (first, second) in zip(chat_ids, pairs):
                for seq in range(1, per_chat + 1):
                    sender, receiver = (first, second) if seq % 2 else (second, first)
                    docs.append(
                        {
                            "chat_id": chat_id,
                            "seq": seq,
                            "sender_id": sender["_id"],
                            "receiver_id": receiver["_id"],
                            "client_id": ObjectId().binary.hex() + "00000000",
                            "text": f"History message number {seq}.",
                            "image": None,
                            "seen_at": newest,
                            "created_at": newest - timedelta(hours=per_chat - seq),
                        }
                    )
            seed.save_messages(docs)
        system.settle()
        figures[names[0]][size] = server_ms(system.url, "/search?q=message+numb", cookie, True, requests)
        figures[names[1]][size] = server_ms(system.url, "/search?q=zebra", cookie, True, requests)
        progress(f"growth: message search at {size:,}: {figures[names[0]][size]} ms, none {figures[names[1]][size]} ms")
    return figures
