# Two commands are all a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := app scim db bench

.PHONY: run test lint format bench install export-schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes: fast when already installed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests (tests/app/browser) drive Debian's chromium through Playwright, which
# never downloads a browser of its own. Installed here when missing, as root (as .ci/run
# runs); anyone else is told how, and the browser tests skip until it is there.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "chromium is missing: sudo apt-get install chromium (browser tests skip until then)"; \
	fi

install: $(STAMP) $(CHROMIUM)

run: $(STAMP)
	$(BIN)/blink-directory serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports

# Two pytest-xdist workers (a whole file per worker, for the module-wide fixtures), each with
# a PostgreSQL database of its own (tests/conftest.py); `make test PYTEST_WORKERS=0` runs in one
# process.
PYTEST_WORKERS ?= 2

test: lint $(CHROMIUM)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# Benchmarks (issue 6): starts real servers, prints one table, writes .bench/results-*.json.
# Installs wrk from Debian's packages when missing (as root); options: python -m bench --help.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

export-schema: $(STAMP)
	$(BIN)/blink-directory export-schema

clean:
	rm -rf $(VENV) var artifacts .mypy_cache .ruff_cache .pytest_cache
