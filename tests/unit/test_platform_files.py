"""The platform files agree with the code: app.json's processes are the
Procfile's, every variable production requires is set by an add-on, a
generator or the person deploying, and .python-version is the Python the
project runs on."""

import json
import os
import sys

import config
from tests.support.services import ROOT

# What each add-on in app.json sets.
ADDON_VARIABLES = {"REDIS": "REDIS_URL", "CLOUDAMQP": "CLOUDAMQP_URL", "CLOUDINARY": "CLOUDINARY_URL"}


def read(name):
    with open(os.path.join(ROOT, name)) as file:
        return file.read()


def procfile():
    return dict(line.split(": ", 1) for line in read("Procfile").splitlines() if line.strip())


def test_app_json_runs_the_procfile_and_its_release():
    app = json.loads(read("app.json"))
    processes = procfile()
    assert set(app["formation"]) == set(processes) - {"release"}
    assert processes["release"] == "flask --app wsgi release" == app["scripts"]["postdeploy"]


def test_every_variable_production_requires_is_provided_by_app_json():
    app = json.loads(read("app.json"))
    from_addons = {ADDON_VARIABLES[addon["as"]] for addon in app["addons"]}
    asked_or_made = {
        name for name, spec in app["env"].items() if spec.get("required") or "generator" in spec or "value" in spec
    }
    provided = from_addons | asked_or_made
    if "CLOUDAMQP_URL" in provided:
        provided.add("RABBITMQ_URL")
    assert set(config.REQUIRED_IN_PRODUCTION) <= provided
    # and every name app.json sets is one Parley reads
    assert set(app["env"]) <= {line.split("=")[0] for line in read(".env.example").splitlines() if "=" in line}


def test_python_version_is_the_one_we_run():
    assert read(".python-version").strip() == f"{sys.version_info.major}.{sys.version_info.minor}"
