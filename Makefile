# Rollgate — the two commands a newcomer needs:
#   make run    installs what is missing, builds, migrates ./data/rollgate.db, serves on :3000
#   make test   runs every test (unit, repository on SQLite + PostgreSQL when it answers,
#               HTTP integration, browser suite with JavaScript off and hydrated)

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
# cargo-leptos compiles with this set (Leptos reads it at compile time); plain cargo commands
# get the same value so they reuse its build instead of recompiling Leptos differently.
export LEPTOS_OUTPUT_NAME := rollgate
# cargo-leptos also builds dev binaries with this cfg; tests use the same flags so they share its
# compiled dependencies and render pages exactly as the binary the browser tests run.
DEV_RUSTFLAGS := --cfg erase_components

# The PostgreSQL server the repository twins use when it answers (a fresh database per test).
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432

.PHONY: setup build run serve test test-rust test-e2e crash-short crash-test security-check dbt-manifest py-tools airflow-up airflow-down bench release lint clean

setup:
	@server/scripts/setup.sh

build: setup
	@echo "==> Building Rollgate (server + WebAssembly) with cargo-leptos (first build: about 6 minutes)"
	cargo leptos build

run: build
	@echo "==> Starting Rollgate in demo mode on an embedded SQLite database (./data/rollgate.db)"
	./target/debug/rollgate serve --demo

# Rust tests first: they rebuild the server binary (with dev-dependencies); cargo leptos build
# then checks it and the WebAssembly before the browser tests.
test: setup dbt-manifest py-tools airflow-up test-rust build crash-short test-e2e airflow-down

# A manifest written by real dbt (PyPI: dbt-core + dbt-duckdb) for the lineage import tests.
# Required in CI; elsewhere a machine without PyPI skips those tests with a message.
dbt-manifest:
	@server/scripts/dbt-manifest.sh || { if [ -n "$$CI" ]; then exit 1; else echo "warning: dbt unavailable; the real-manifest tests will skip"; fi; }

# A real SMTP server (aiosmtpd from PyPI) for the notification tests, in target/py-tools.
# Required in CI; elsewhere a machine without PyPI skips the e-mail tests with a message.
py-tools:
	@server/scripts/py-tools.sh >/dev/null || { if [ -n "$$CI" ]; then exit 1; else echo "warning: aiosmtpd unavailable; the e-mail tests will skip"; fi; }

# A real Apache Airflow 3 (PyPI, metadata in the local PostgreSQL) for the execution tests.
# Required in CI; elsewhere a machine without PyPI or PostgreSQL skips those tests with a message.
airflow-up:
	@end2end/airflow/airflow.sh start || { if [ -n "$$CI" ]; then exit 1; else echo "warning: Airflow unavailable; the real-Airflow tests will skip"; fi; }

airflow-down:
	@end2end/airflow/airflow.sh stop

test-rust: export ROLLGATE_AIRFLOW_URL = $(shell end2end/airflow/airflow.sh url 2>/dev/null)
test-rust:
	@if (exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null; then \
	  echo "==> Rust tests (PostgreSQL at $(PG_HOST):$(PG_PORT) answers: repository twins included)"; \
	  RUSTFLAGS="$(DEV_RUSTFLAGS)" TEST_DATABASE_URL=$(PG_ADMIN_URL) cargo test -p app -p rollgate -- --include-ignored && \
	  echo "==> HTTP and REST suites again, on PostgreSQL" && \
	  RUSTFLAGS="$(DEV_RUSTFLAGS)" TEST_DATABASE_URL=$(PG_ADMIN_URL) ROLLGATE_IT_BACKEND=postgres cargo test -p app -p rollgate --test api --test rest; \
	elif [ -n "$$CI" ]; then \
	  echo "error: CI runs the PostgreSQL twins, but nothing answers at $(PG_HOST):$(PG_PORT)" >&2; exit 1; \
	else \
	  echo "==> Rust tests (no PostgreSQL at $(PG_HOST):$(PG_PORT): SQLite only)"; \
	  RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo test -p app -p rollgate; \
	fi

test-e2e:
	@echo "==> Browser tests in Chromium: JavaScript off, then hydrated"
	cd end2end && npx playwright test

# The crash test: `rollgate serve` killed with SIGKILL at random moments (many mid-call) while
# approvals and rollbacks run against a counting Airflow-wire server; it checks nothing
# acknowledged is lost, every job finishes, no remote run is created twice, the audit chain
# verifies. `make test` runs a short one; `make crash-test` the full one (about 25 minutes).
CRASH = ./target/debug/rollgate-crash
# PostgreSQL is stopped for 3 s mid-run (and the Airflow-wire server restarted) where this
# machine's cluster can be controlled (root with pg_ctlcluster, as in CI).
PG_CTL ?= pg_ctlcluster 15 main
RESTARTS = $(shell if [ "$$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null; then echo --restart-db --restart-airflow; else echo --restart-airflow; fi)
crash-short:
	@RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo build -q -p rollgate --bin rollgate-crash
	@echo "==> Crash test (short): kill -9 under load"
	$(CRASH) --backend sqlite --flows 40 --kills 12 --restart-airflow
	@if (exec 3<>/dev/tcp/$(PG_HOST)/$(PG_PORT)) 2>/dev/null; then \
	  CRASH_PG_URL=$(PG_ADMIN_URL) CRASH_PG_CTL="$(PG_CTL)" $(CRASH) --backend postgres --flows 40 --kills 12 $(RESTARTS) && \
	  CRASH_PG_URL=$(PG_ADMIN_URL) $(CRASH) --backend postgres --flows 40 --kills 6 --instances 2; \
	elif [ -n "$$CI" ]; then \
	  echo "error: CI runs the crash test on PostgreSQL, but nothing answers at $(PG_HOST):$(PG_PORT)" >&2; exit 1; \
	else echo "warning: no PostgreSQL at $(PG_HOST):$(PG_PORT): the crash test ran on SQLite only"; fi

crash-test: build
	@RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo build -q -p rollgate --bin rollgate-crash
	$(CRASH) --backend sqlite --flows 1000 --kills 100
	CRASH_PG_URL=$(PG_ADMIN_URL) CRASH_PG_CTL="$(PG_CTL)" $(CRASH) --backend postgres --flows 1000 --kills 100 $(RESTARTS)
	CRASH_PG_URL=$(PG_ADMIN_URL) $(CRASH) --backend postgres --flows 200 --kills 20 --instances 2

# The fast security checks: hostile-input property tests of every parser, the HTTP hardening
# tests, and the REST API against its OpenAPI document under schemathesis (PyPI; CI requires
# it, elsewhere a machine without PyPI skips that part with a message).
security-check: build
	@echo "==> Hostile input: property tests of the parsers (256 cases each) and the HTTP hardening tests"
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo test -q -p app -p rollgate --lib -- hostile_input rest::dto::tests
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo test -q -p app -p rollgate --test api -- hardening:: sessions:: tokens::
	@echo "==> The REST API against its OpenAPI document (schemathesis)"
	@end2end/contract/run.sh 40 || { status=$$?; if [ -n "$$CI" ] || [ $$status -ne 3 ]; then exit $$status; else echo "warning: schemathesis unavailable; the contract run was skipped"; fi; }

bench: setup
	@echo "==> Release build (wasm-opt from end2end/node_modules), then the benchmark"
	PATH="$(CURDIR)/end2end/node_modules/.bin:$$PATH" cargo leptos build --release
	cargo build --release -p rollgate --bin rollgate-bench
	./target/release/rollgate-bench

lint:
	cargo fmt --all -- --check
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo clippy -p app -p rollgate --all-targets -- -D warnings
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo clippy -p hydrate --target wasm32-unknown-unknown -- -D warnings

clean:
	cargo clean
	rm -rf end2end/test-results
