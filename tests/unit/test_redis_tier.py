"""The Redis Cluster rerun runs the redis tier only: it must still reach
every Lua script and every pipeline in app/ (tests/support/redis_tier.py)."""

import os

import pytest

from tests.support import redis_tier


def test_app_s_scripts_and_pipelines_are_found_by_reading_it():
    found = redis_tier.sites()
    assert "app.chats.numbering.RESERVE_SCRIPT" in found["scripts"]
    assert "app/chats/numbering.py:_run" in found["pipelines"]
    assert len(found["scripts"]) >= 10 and len(found["pipelines"]) >= 20


def test_the_redis_tier_reaches_every_script_and_pipeline_in_app():
    """`make test` records what the Cluster rerun reaches, then runs this."""
    folder = os.environ.get(redis_tier.RECORD)
    if not folder or not os.path.isdir(folder) or not os.listdir(folder):
        pytest.skip(f"no record of a run of the redis tier: set {redis_tier.RECORD} for it, then for this")
    found, reached = redis_tier.sites(), redis_tier.reached(folder)
    scripts_missed = sorted(name for name, sha in found["scripts"].items() if sha not in reached["scripts"])
    pipelines_missed = sorted(found["pipelines"] - reached["pipelines"])
    assert (scripts_missed, pipelines_missed) == ([], [])
