"""How many Redis connections and how much Redis memory Parley uses: one web
process (one gunicorn worker, or --web-workers N), one chat worker and one mail worker, on a
Redis of their own, at rest with pages open and while 100 pairs send at
100 msg/s. `python -m bench.redis_budget` prints the figures (README
"Deploying" quotes them); about a minute."""

import argparse
import json
import os
import sys
import time
from collections import Counter

import psutil
import redis

from bench import seed
from bench.scenarios import LoadProcess, percentiles, progress, split
from bench.system import System
from sandbox import BIN, PrivateRedis


def connections_by_process(client, pids):
    """{process name: Redis connections it holds}, from CLIENT LIST and who owns each local port."""
    owner = {}
    for name, pid in pids.items():
        for connection in psutil.Process(pid).net_connections("tcp"):
            if connection.raddr and connection.raddr.port == client.connection_pool.connection_kwargs["port"]:
                owner[connection.laddr.port] = name
    counts = Counter()
    for entry in client.client_list():
        port = int(entry["addr"].rsplit(":", 1)[1])
        if port in owner:
            counts[owner[port]] += 1
    return dict(counts)


def snapshot(client, pids):
    memory = client.info("memory")
    by_process = connections_by_process(client, pids)
    return {
        "connections": sum(by_process.values()),
        "by_process": by_process,
        "used_memory_mb": round(memory["used_memory"] / 1e6, 2),
        "keys": client.dbsize(),
    }


def main(web_workers=1, pairs=100, idle=200, rate=100, seconds=30):
    server = PrivateRedis()
    client = redis.Redis(port=server.port)
    system = System(web_workers, chat_workers=1, mail_workers=1, redis_url=server.url)
    loads = []
    try:
        ours = ("web", "chat_worker", "mail_worker")
        pids = {name: process.pid for name, process in system.watched().items() if name.startswith(ours)}
        empty = snapshot(client, pids)
        app = system.app()
        talkers = seed.people(app, 2 * pairs, "talker")
        quiet = seed.people(app, idle, "idle")
        chat_ids = seed.chats_between(app, list(zip(talkers[::2], talkers[1::2])))
        seed.chats_between(app, list(zip(quiet[::2], quiet[1::2])))
        plans = [
            {"chat": str(chat), "people": [seed.credentials(app, a), seed.credentials(app, b)]}
            for chat, a, b in zip(chat_ids, talkers[::2], talkers[1::2])
        ]
        idle_plans = [seed.credentials(app, user) for user in quiet]
        for pair_share, idle_share in zip(split(plans, 2), split(idle_plans, 2)):
            loads.append(LoadProcess({"base": system.url, "pairs": pair_share, "idle": idle_share}))
        for load in loads:
            load.expect("{", 120)
        system.settle()
        at_rest = snapshot(client, pids)
        progress(f"at rest with {2 * pairs + idle} pages: {at_rest}")
        start_at = time.time() + 1.0
        for load in loads:
            load.tell(f"step 0 {start_at} {rate / 2} {seconds} 0")
        busiest = {"connections": 0}
        deadline = start_at + seconds
        while time.time() < deadline:
            time.sleep(1)
            now = snapshot(client, pids)
            if now["connections"] > busiest["connections"]:
                busiest = now
        for load in loads:
            load.expect("done", 60)
        after = snapshot(client, pids)
        for load in loads:
            load.tell("finish")
        results = [json.loads(load.expect('{"results"', 120))["results"].get("0", {}) for load in loads]
        delivery = percentiles([ms for result in results for ms in result.get("delivery_ms", [])])
        sent = rate * seconds
        figures = {
            "pages": 2 * pairs + idle,
            "started": empty,
            "at_rest": at_rest,
            f"at_{rate}_msg_s_busiest": busiest,
            f"after_{seconds}_s": after,
            "delivery_ms": {"p50": delivery["p50"], "p99": delivery["p99"], "n": delivery["n"]},
            "lost": sum(result.get("lost", 0) for result in results),
            "memory_per_message_kb": round((after["used_memory_mb"] - at_rest["used_memory_mb"]) * 1000 / sent, 2),
        }
        print(json.dumps(figures, indent=2))
        return figures
    finally:
        for load in loads:
            load.stop()
        system.stop()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers (WEB_CONCURRENCY)")
    os.environ.setdefault("PATH", BIN)
    sys.exit(0 if main(parser.parse_args().web_workers) else 1)
