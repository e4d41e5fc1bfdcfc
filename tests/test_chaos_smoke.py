"""A short run of one fault (the chat worker killed), so `make chaos` never
rots: its rig, load, fault, figures and report. Each fault it can inject
has its own test besides (tests/integration: the workers', web processes',
Redis's and RabbitMQ's); `make chaos` runs them all."""

import json
import os
import subprocess
import sys

import pytest

from chaos import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(180)
def test_a_fault_runs_and_meets_every_target(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "chaos", "--smoke", "--out", str(tmp_path)], cwd=ROOT, check=True, timeout=180
    )
    figures = json.loads((tmp_path / "latest.json").read_text())
    assert list(figures["scenarios"]) == ["chat-worker-kill"]
    for name, scenario in figures["scenarios"].items():
        assert "error" not in scenario, f"{name}: {scenario.get('error')}"
        assert scenario["messages"]["accepted"] > 0 and scenario["codes"]["accepted"] > 0
        missed = [(target, measured) for target, measured, met in report.targets(scenario) if not met]
        assert not missed, f"{name} missed {missed}; logs in {scenario['log_dir']}"
    assert "## Targets" in (tmp_path / "latest.md").read_text()
