"""make bench: Parley's speed and memory under load, written to bench/results/.

python -m bench            the full run (about fifteen minutes): the ladder three times, the rest once
python -m bench --smoke    a seconds-long run of every scenario, for the test suite
python -m bench --only pages,idle
python -m bench --only search  message search's growth alone (part of growth)
python -m bench --only ladder --repeat 1 --rates 200   one rate, once: a quick before/after
"""

import argparse
import json
import os
import sys
import time

from bench import growth, report, scenarios
from bench.system import System

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

# The ladder runs three times, each on a fresh system: its knee is the rate
# every run carried. Steps are short (3 s warm-up, 12 s measured) to keep that
# within a few minutes; the stage and stall figures come from a sample of every step.
FULL = {
    "ladder": dict(pairs=100, idle=800, rates=(25, 50, 100, 200, 300, 400), warmup=3, measure=12),
    "idle": dict(count=5000, messages=50),
    "pages": dict(requests=50),
    "growth": dict(requests=30),
}
SMOKE = {
    "ladder": dict(pairs=4, idle=8, rates=(20,), warmup=1, measure=2),
    "idle": dict(count=100, messages=5),
    "pages": dict(requests=3),
    "growth": dict(
        messages=(10, 100), people=(10, 100), chats=(3, 10), requests=3, searched=(20, 100), search_chats=20
    ),
}
EVERY = "ladder,idle,pages,scaleout,growth"
# The smoke run's ladder is the 2+2 one alone: the same scenario as the 1+1
# ladder, through two of each process (each system costs seconds to start and stop).
SMOKE_ONLY = "idle,pages,scaleout,growth"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default=None, help=f"scenarios (default {EVERY}; {SMOKE_ONLY} with --smoke)")
    parser.add_argument("--out", default=None, help="where to write the report (default bench/results)")
    parser.add_argument("--repeat", type=int, default=None, help="ladder runs (default 3, 1 with --smoke)")
    parser.add_argument("--rates", default=None, help="the ladder's offered rates, e.g. 100,200")
    arguments = parser.parse_args(argv)
    sizes = SMOKE if arguments.smoke else FULL
    repeat = arguments.repeat or (1 if arguments.smoke else 3)
    ladder = dict(sizes["ladder"])
    if arguments.rates:
        ladder["rates"] = tuple(int(rate) for rate in arguments.rates.split(","))
    wanted = set((arguments.only or (SMOKE_ONLY if arguments.smoke else EVERY)).split(","))
    out = arguments.out or RESULTS
    started = time.time()
    figures = {
        "machine": scenarios.machine(),
        "smoke": arguments.smoke,
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
    }
    if "ladder" in wanted:
        figures["ladder"] = [scenarios.rate_ladder(**ladder) for _ in range(repeat)]
    if "scaleout" in wanted:
        figures["scaleout"] = [scenarios.rate_ladder(web=2, workers=2, label="2+2", **ladder)]
    # The smoke run's idle, pages and growth share one system (each costs seconds to
    # start and stop); the full run gives each a fresh one, so none measures another's data.
    together = arguments.smoke and wanted & {"idle", "pages", "growth", "search"}
    shared = System(web_workers=1, chat_workers=1, server_timing=True) if together else None
    try:
        if "idle" in wanted:
            figures["idle"] = scenarios.idle_sockets(**sizes["idle"], system=shared)
        if "pages" in wanted:
            figures["pages"] = scenarios.pages(**sizes["pages"], system=shared)
        if "growth" in wanted:
            figures["growth"] = growth.growth(**sizes["growth"], system=shared)
        elif "search" in wanted:
            figures["growth"] = growth.growth(**sizes["growth"], only_search=True, system=shared)
    finally:
        if shared:
            shared.stop()
    figures["minutes"] = round((time.time() - started) / 60, 1)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.json"), "w") as file:
        json.dump(figures, file, indent=2)
    report.write(figures, out)
    scenarios.progress(f"report written to {os.path.join(out, 'latest.md')} in {figures['minutes']} minutes")
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
