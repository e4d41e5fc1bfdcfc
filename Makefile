# Two commands: `make run` starts Parley with its workers on http://127.0.0.1:5000,
# `make test` runs every test. Both set up what they need on a fresh machine.
# `make check` runs the fast tier (docs/testing.md) while you work.

PYTHON ?= python3
# Python and pytest keep their compiled modules (app processes start about
# 130 times in a run, and pytest rewrites every test module's asserts in each
# of its processes), even where the environment says not to.
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv
BIN := $(VENV)/bin
# pytest-xdist: the tests wait on services more than they compute, so more
# processes than this machine's 2 cores (docs/testing.md has the figures).
TEST_WORKERS ?= 3
CHECK_WORKERS ?= 4
PYTEST := $(BIN)/python -m pytest --dist loadgroup
# The fast tier: unit and in-process tests, no browser, no process of their own.
FAST := not browser and not process and not smoke and not slow
# Where the Cluster rerun notes the scripts and pipelines it reached.
REDIS_TIER_RECORD := var/redis-tier

.PHONY: run check test screens bench chaos lint install test-install clean

run: install
	$(BIN)/python scripts/dev.py run

# Only the folders that hold it: collecting the browser tests costs seconds.
check: install
	$(BIN)/python scripts/dev.py services
	$(PYTEST) -n $(CHECK_WORKERS) -m "$(FAST)" tests/unit tests/integration

# Then the redis tier's in-process tests again (all in tests/integration), on a
# local 3-node Redis Cluster (on spare ports) instead of the shared Redis (the
# queue types and the slow tier's thousands of requests need no second run),
# and a check that they reached every Lua script and pipeline in app/.
test: install test-install
	$(BIN)/python scripts/dev.py services --browser
	$(PYTEST) -n $(TEST_WORKERS)
	rm -rf $(REDIS_TIER_RECORD)
	PARLEY_TEST_REDIS=cluster PARLEY_REDIS_TIER_RECORD=$(REDIS_TIER_RECORD) $(PYTEST) -n $(TEST_WORKERS) -m "redis and not process and not slow" -k "not quorum" tests/integration
	PARLEY_REDIS_TIER_RECORD=$(REDIS_TIER_RECORD) $(BIN)/python -m pytest -q tests/unit/test_redis_tier.py

# The browser tests again, taking their screenshots (test-results/screen/) to look at.
screens: install test-install
	$(BIN)/python scripts/dev.py services --browser
	SCREENSHOTS=1 $(PYTEST) -n $(TEST_WORKERS) -m browser tests/browser

bench: install
	$(BIN)/python scripts/dev.py services
	$(BIN)/python -m bench

# Its Redis, RabbitMQ and SecantusDB are private ones on spare ports; `services` installs what they run.
chaos: install
	$(BIN)/python scripts/dev.py services
	$(BIN)/python -m chaos

lint: install
	$(BIN)/ruff check .

install: $(VENV)/.installed

# Debian and Ubuntu ship venv separately (python3-venv).
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { rm -rf $(VENV); scripts/apt-install python3-venv && $(PYTHON) -m venv $(VENV); }

# Not compiled here: each module is compiled once, when a process first imports
# it (PYTHONDONTWRITEBYTECODE is unexported above), and most of what is
# installed never is (17 s of a fresh clone's 42 s install).
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The browser tests' virtual screen reader comes from npm (tests/support/npm);
# only the tests need it, and npm comes from Debian where it is missing.
test-install: tests/support/npm/node_modules/.installed

tests/support/npm/node_modules/.installed: tests/support/npm/package-lock.json
	@command -v npm >/dev/null 2>&1 || scripts/apt-install npm
	npm ci --prefix tests/support/npm --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) var .pytest_cache
