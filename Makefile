# OpsLake — `make up` brings the whole platform up, `make test` runs every test.
# Settings come from OPSLAKE_* environment variables (see README, Configuration).

SHELL := /bin/bash
.DEFAULT_GOAL := help

export OPSLAKE_HOME ?= $(CURDIR)/var
export OPSLAKE_HOST ?= 127.0.0.1
export OPSLAKE_DAGSTER_PORT ?= 3000
export OPSLAKE_OPS_PORT ?= 8000
export OPSLAKE_SUPERSET_PORT ?= 8088
export DAGSTER_HOME ?= $(OPSLAKE_HOME)/dagster
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE ?= copy

DEMO_SCALE ?= 50000
DEMO_SEED ?= 42
PYTEST_ARGS ?=
BENCH ?=
BENCH_SCALE ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
OPSLAKE := $(VENV)/bin/opslake

include apps/bi/superset.mk

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 22

# --- install ------------------------------------------------------------------------------

$(UV):
	@echo "installing uv (Python package manager)…"
	@python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@command -v uv >/dev/null || test -x $(HOME)/.local/bin/uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced ## main venv (.venv) from uv.lock

.PHONY: setup
setup: venv superset-venv ## both venvs, the lake, Dagster's home
	@$(OPSLAKE) setup

# Debian packages for browser tests and CJK screenshots; installed only when absent.
.PHONY: browser
browser: ## Chromium + CJK fonts from Debian (for the browser tests)
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "installing chromium and fonts-noto-cjk (apt)…"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# --- the demo company and the pipeline ------------------------------------------------------

$(OPSLAKE_HOME)/demo/.generated-$(DEMO_SCALE)-$(DEMO_SEED):
	@$(OPSLAKE) demo generate --scale $(DEMO_SCALE) --seed $(DEMO_SEED)
	@touch $@

.PHONY: demo
demo: venv $(OPSLAKE_HOME)/demo/.generated-$(DEMO_SCALE)-$(DEMO_SEED) ## generate the demo company (once per scale and seed)

.PHONY: build
build: venv ## ingest every source and build every model through Dagster
	@$(OPSLAKE) build

# --- services ------------------------------------------------------------------------------

.PHONY: up
up: setup demo ## install, build the demo lake, provision Superset, start everything
	@$(OPSLAKE) services up --only ops
	@$(PY) -m apps.ops.oms demo-activity
	@$(OPSLAKE) build
	@# the write-back loop twice: its lake rules write to the app store after its ingest, the
	@# second pass lands that (and fires nothing new), so one `make up` leaves the lake and
	@# the app in step and running it again changes nothing
	@$(OPSLAKE) build --job writeback_loop
	@$(OPSLAKE) build --job writeback_loop
	@$(OPSLAKE) services docs
	@$(MAKE) --no-print-directory superset-init superset-provision superset-start
	@$(OPSLAKE) services up
	@$(OPSLAKE) services urls

.PHONY: down
down: ## stop exactly what `make up` started
	@-$(OPSLAKE) services down
	@$(MAKE) --no-print-directory superset-stop

# --- quality -------------------------------------------------------------------------------

.PHONY: test
test: setup browser ## run the whole test suite
	OPSLAKE_REQUIRE_SUPERSET=1 $(VENV)/bin/pytest $(PYTEST_ARGS)

.PHONY: lint
lint: venv ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: bench
bench: setup ## benchmarks, each figure as a ratio against a baseline of the same run
	$(PY) -m benchmarks $(if $(BENCH),--only $(BENCH)) $(if $(BENCH_SCALE),--scale $(BENCH_SCALE))

.PHONY: clean
clean: down ## remove all local state (var/) but keep the venvs
	rm -rf $(OPSLAKE_HOME) models/target
