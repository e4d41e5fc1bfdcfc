"""A seconds-long run of the whole benchmark harness, so `make bench` never rots.
It measures nothing worth keeping; it checks every scenario runs and reports."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(300)
def test_the_benchmark_runs_every_scenario_and_writes_its_report(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)], cwd=ROOT, check=True, timeout=300
    )
    figures = json.loads((tmp_path / "latest.json").read_text())
    assert "ladder" not in figures  # the smoke run's ladder is the 2+2 one (bench/__main__.py)
    for run in figures["scaleout"]:
        assert run["at_rest"]["web1"]["cpu_percent"] >= 0  # the open pages with no messages
        for step in run["steps"]:
            assert step["sent"] > 0 and step["delivery_ms"]["n"] == step["sent"]
            assert step["errors"] == step["lost"] == step["doubled"] == 0
            assert step["trace"]["stages"]["sent → arrived"]["n"] > 0  # some messages traced end to end
    assert figures["idle"]["delivery_ms"]["n"] > 0 and figures["idle"]["lost"] == 0
    assert figures["pages"]["pages"]["chat page (newest 50 of 1,000)"]["server_ms"]["median"] > 0
    assert (tmp_path / "latency.png").stat().st_size > 0
    assert "## Rate ladder" in (tmp_path / "latest.md").read_text()
