# Two commands: `make run` starts Parley with its workers on http://127.0.0.1:5000,
# `make test` runs every test. Both set up what they need on a fresh machine.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench chaos lint install clean

run: install
	$(BIN)/python scripts/dev.py run

# Then the Redis-dependent suite again, on a local 3-node Redis Cluster (on
# spare ports) instead of the shared Redis; the queue types need no second run.
test: install
	$(BIN)/python scripts/dev.py services --browser
	$(BIN)/python -m pytest
	PARLEY_TEST_REDIS=cluster $(BIN)/python -m pytest tests/integration -k "not quorum"

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

# The browser tests' virtual screen reader comes from npm (tests/support/npm).
$(VENV)/.installed: requirements.txt requirements-dev.txt tests/support/npm/package-lock.json | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	npm ci --prefix tests/support/npm --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) var .pytest_cache
