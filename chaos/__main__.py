"""make chaos: faults injected into Parley as the Procfile runs it, written to chaos/results/.

python -m chaos            every fault (about ten minutes)
python -m chaos --smoke    one short fault (the chat worker killed), for the test suite
python -m chaos --only redis-oom,smtp-down
"""

import argparse
import json
import os
import sys
import tempfile
import time

from chaos import report, run
from chaos.rig import MachineRabbitMQ
from sandbox import PrivateRabbitMQ

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

FULL = dict(warmup=5, after=25, late=30)
SMOKE = dict(warmup=2, after=3, late=20)
SMOKE_SCENARIOS = "chat-worker-kill"
# Faults that stop RabbitMQ run on a node of the run's own (it takes 10 s to start).
BROKER_FAULTS = {"rabbitmq-restart", "rabbitmq-kill"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default=None, help="faults to run, by name: " + ", ".join(run.SCENARIOS))
    parser.add_argument("--out", default=None, help="where to write the report (default chaos/results)")
    arguments = parser.parse_args(argv)
    timing = SMOKE if arguments.smoke else FULL
    names = (arguments.only or (SMOKE_SCENARIOS if arguments.smoke else ",".join(run.SCENARIOS))).split(",")
    unknown = [name for name in names if name not in run.SCENARIOS]
    if unknown:
        parser.error(f"no fault named {', '.join(unknown)}")
    out = arguments.out or RESULTS
    log_dir = tempfile.mkdtemp(prefix="parley-chaos-logs-")
    started = time.time()
    figures = {
        "smoke": arguments.smoke,
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "settings": {"rate": run.RATE, "codes_every": run.CODES_EVERY, **timing},
        "log_dir": log_dir,
        "scenarios": {},
    }
    if BROKER_FAULTS & set(names):
        run.progress("starting a private RabbitMQ")
        rabbitmq = PrivateRabbitMQ(log_path=os.path.join(log_dir, "rabbitmq.log"))
    else:
        rabbitmq = MachineRabbitMQ()
    try:
        for name in names:
            try:
                figures["scenarios"][name] = run.scenario(name, rabbitmq, log_dir, **timing)
            except Exception as error:  # one fault that cannot run does not stop the others
                run.progress(f"{name}: could not run: {error!r}")
                figures["scenarios"][name] = {"error": repr(error)}
                if isinstance(rabbitmq, PrivateRabbitMQ) and not rabbitmq.process.alive():
                    rabbitmq.start()
    finally:
        rabbitmq.remove()
    figures["minutes"] = round((time.time() - started) / 60, 1)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.json"), "w") as file:
        json.dump(figures, file, indent=2)
    report.write(figures, out)
    for name, scenario in figures["scenarios"].items():
        if "error" in scenario:
            run.progress(f"{name}: not run")
            continue
        missed = [target for target, _, met in report.targets(scenario) if not met]
        run.progress(f"{name}: " + ("missed: " + "; ".join(missed) if missed else "targets met"))
    run.progress(f"report written to {os.path.join(out, 'latest.md')} in {figures['minutes']} minutes")
    return figures


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
