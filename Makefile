# The two set-up commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= sample_data
CONTACTS ?= 2000
DEMO_FOLDER ?= $(CURDIR)/warehouse/demo
DEMO_EXPORTS ?= exports
BENCH_CONTACTS ?= 1000000
EXPORT_CONTACTS ?= 550000

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: venv demo test test-fast lint pytest test-property test-crash bench-run bench-land bench-incremental bench-profile bench-export bench-check bench-campaign lock clean

# The environment, rebuilt whenever the lock changes.
$(BIN)/cdp: requirements.lock pyproject.toml scripts/dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e . -e scripts/dev
	touch $@

venv: $(BIN)/cdp

# The npm lock: Data Docs' scripts and styles (offline pages) and Azurite for the tests.
NODE_PACKAGES = node_modules/.package-lock.json
$(NODE_PACKAGES): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The whole pipeline on generated sample data, into a DuckDB file of its own (its
# export state included), from scratch every time: a second demo exports again.
demo: venv $(NODE_PACKAGES)
	rm -rf $(SAMPLE) $(DEMO_EXPORTS) $(DEMO_FOLDER)
	$(BIN)/cdp generate $(SAMPLE) --contacts $(CONTACTS)
	CDP_DUCKDB_PATH=$(DEMO_FOLDER)/cdp.duckdb $(BIN)/cdp run $(SAMPLE) --to $(DEMO_EXPORTS)
	CDP_DUCKDB_PATH=$(DEMO_FOLDER)/cdp.duckdb $(BIN)/cdp status
	@echo "the demo's warehouse: CDP_DUCKDB_PATH=$(DEMO_FOLDER)/cdp.duckdb; its files: $(DEMO_EXPORTS)/"

# Every test, in the order of the quality gate; stops at the first failure.
test: venv $(NODE_PACKAGES)
	$(BIN)/python scripts/ci/gate.py

lint: venv
	$(BIN)/sqlfluff lint --processes 2 models macros snapshots tests analyses
	$(BIN)/ruff check scripts benchmarks

pytest: venv $(NODE_PACKAGES)
	$(BIN)/pytest --numprocesses 2 --dist worksteal

# The unit tier: tests that neither build the project with dbt nor start a test
# service (scripts/tests/conftest.py marks them); `make test` runs every tier.
test-fast: venv
	$(BIN)/pytest -m unit --numprocesses 2 --dist worksteal

# The property tests at their full count (CI runs reproducible subsets: 3 sequences,
# 60 landed files).
test-property: venv
	CDP_PROPERTY_SEQUENCES=50 $(BIN)/pytest scripts/tests/test_incremental.py -k equal
	CDP_PROPERTY_EXAMPLES=1000 $(BIN)/pytest scripts/tests/test_land_properties.py

# Kills of land and build at every point (CI kills each at a few).
test-crash: venv
	CDP_CRASH_ALL=1 $(BIN)/pytest scripts/tests/test_kills.py

# The whole run as a user times it (cdp run from empty, with nothing new, after a delta).
bench-run: venv
	$(BIN)/python benchmarks/bench_run.py --contacts $(BENCH_CONTACTS)

bench-land: venv
	$(BIN)/python benchmarks/bench_land.py --contacts $(BENCH_CONTACTS)

bench-incremental: venv
	$(BIN)/python benchmarks/bench_incremental.py --contacts $(BENCH_CONTACTS)

bench-profile: venv
	$(BIN)/python benchmarks/bench_profile.py --scales 100000 $(BENCH_CONTACTS)

# `cdp check` at one million contacts.
bench-check: venv
	$(BIN)/python benchmarks/bench_check.py --contacts $(BENCH_CONTACTS)

# About 5 million Insight interaction rows to a folder and to Azurite, against COPY.
bench-export: venv $(NODE_PACKAGES)
	$(BIN)/python benchmarks/bench_export.py --contacts $(EXPORT_CONTACTS)

# Campaign-bound exports (segments, profiles, lookups, logs) at one million contacts,
# timed as commands from the shell, against DuckDB's COPY of the same relations.
bench-campaign: venv
	$(BIN)/python benchmarks/bench_campaign.py --contacts $(BENCH_CONTACTS)

# Re-resolve the lock from pyproject.toml (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e '.[dev]'
	.lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf target logs warehouse $(SAMPLE) $(VENV)
