# Two commands on a fresh clone: `make demo` and `make test`. Everything else is set up here.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint typecheck contracts unit browser bench clean-var help

help:
	@echo "make demo   set up and run the main job end to end, offline"
	@echo "make test   set up and run lint, import contracts, type checks and the test suite"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

# Reinstalls only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --prefer-binary -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

contracts: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Headless Chromium for the web dashboard's end-to-end test: Debian's package, installed when missing
# (as root). When it cannot be installed this says why and goes on: the test then fails, because
# `unit` sets SIXBTC_REQUIRE_BROWSER=1 (a developer's bare pytest run skips it instead).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "browser: chromium is missing and there is no apt-get here: install Chromium so that 'chromium' is on PATH"; \
	  elif [ "$$(id -u)" != 0 ]; then echo "browser: chromium is missing; installing it needs root: sudo apt-get install -y chromium"; \
	  else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    || echo "browser: apt-get could not install chromium (no network or no Debian mirror?)"; fi; }

# Two pytest workers (pytest-xdist): much of the suite waits on servers, subprocesses and Postgres,
# so two overlap well even on a 2-core machine; each worker has its own test database. Whole files
# go to one worker (loadfile), so a module's expensive fixture (a soak run, a corpus) is built once.
# A worker that dies is not replaced (--max-worker-restart=0): xdist's loadfile scheduler can hang
# after a replacement (pytest-xdist #1378), and a crash fails the run either way; tests/conftest.py
# prints how the worker died. pytest-timeout (pyproject.toml) fails a test that hangs.
TEST_WORKERS ?= 2

unit: $(STAMP) browser
	SIXBTC_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --max-worker-restart=0 --durations=25

test: lint contracts typecheck unit

demo: $(STAMP)
	$(BIN)/sixbtc demo

bench: $(STAMP)
	$(BIN)/python bench/event_store.py
	$(BIN)/python bench/market_data.py --seconds 5
	$(BIN)/python bench/backtest.py
	$(BIN)/python bench/validation.py
	$(BIN)/python bench/pipeline.py

clean-var:
	rm -rf var
