"""What a Redis Cluster can refuse, and whether the redis tier reaches it.

A Lua script or a pipeline that touches keys in two hash slots works on one
Redis and fails on a Cluster. The Cluster rerun (`make test`) runs the redis
tier only, so every script and every pipeline in app/ must be reached by a
test in it: `sites()` finds them by reading app/, `Recorder` notes the ones
a run reaches (in this process: the app's own code, not gunicorn's), and
tests/unit/test_redis_tier.py compares the two.
"""

import ast
import hashlib
import importlib
import json
import os
import sys

import pytest
import redis.connection
from redis.client import Redis
from redis.cluster import RedisCluster

from sandbox import ROOT

APP = os.path.join(ROOT, "app")
RECORD = "PARLEY_REDIS_TIER_RECORD"  # a folder: each pytest process writes what it reached there


def sha(script):
    return hashlib.sha1(script.encode()).hexdigest()


def sites():
    """{"scripts": {name: sha1}, "pipelines": {"app/x.py:function"}} found in app/:
    each module-level *_SCRIPT, and each function that opens a pipeline."""
    scripts, pipelines = {}, set()
    for folder, _, files in os.walk(APP):
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            path = os.path.join(folder, file)
            relative = os.path.relpath(path, ROOT)
            tree = ast.parse(open(path).read())
            module = relative.removesuffix(".py").replace(os.sep, ".").removesuffix(".__init__")
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else []
                for target in targets:
                    if isinstance(target, ast.Name) and target.id.endswith("_SCRIPT"):
                        name = f"{module}.{target.id}"
                        scripts[name] = sha(getattr(importlib.import_module(module), target.id))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for call in ast.walk(function):
                    if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "pipeline":
                        pipelines.add(f"{relative}:{function.name}")
    return {"scripts": scripts, "pipelines": pipelines}


class Recorder:
    """A pytest plugin: while a test of the redis tier runs, the SHA-1 of each
    script sent to Redis (EVAL or EVALSHA) and the app/ function that opened
    each pipeline. With PARLEY_REDIS_TIER_RECORD set, written there at the end."""

    def __init__(self):
        self.scripts, self.pipelines = set(), set()
        self.on = False
        recorder = self
        for serializer in (redis.connection.PythonRespSerializer, redis.connection.HiredisRespSerializer):
            pack = serializer.pack

            def noting_pack(self, *args, pack=pack):
                if recorder.on and args and str(args[0]).upper() in ("EVAL", "EVALSHA"):
                    script = args[1].decode() if isinstance(args[1], bytes) else str(args[1])
                    recorder.scripts.add(script if str(args[0]).upper() == "EVALSHA" else sha(script))
                return pack(self, *args)

            serializer.pack = noting_pack
        for client in (Redis, RedisCluster):
            open_pipeline = client.pipeline

            def noting_pipeline(self, *args, open_pipeline=open_pipeline, **kwargs):
                if recorder.on:
                    caller = sys._getframe(1).f_code
                    if caller.co_filename.startswith(APP + os.sep):
                        recorder.pipelines.add(f"{os.path.relpath(caller.co_filename, ROOT)}:{caller.co_name}")
                return open_pipeline(self, *args, **kwargs)

            client.pipeline = noting_pipeline

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.on = item.get_closest_marker("redis") is not None
        try:
            return (yield)
        finally:
            self.on = False

    def pytest_sessionfinish(self, session):
        folder = os.environ.get(RECORD)
        if not folder:
            return
        os.makedirs(folder, exist_ok=True)
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(os.path.join(folder, f"{name}.json"), "w") as file:
            json.dump({"scripts": sorted(self.scripts), "pipelines": sorted(self.pipelines)}, file)


def reached(folder):
    """What the runs that wrote to `folder` reached, together."""
    scripts, pipelines = set(), set()
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as file:
            found = json.load(file)
        scripts.update(found["scripts"])
        pipelines.update(found["pipelines"])
    return {"scripts": scripts, "pipelines": pipelines}
