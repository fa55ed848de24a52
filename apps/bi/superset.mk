# Superset (BI) targets. Included from the top Makefile (`include apps/bi/superset.mk`);
# also works alone: `make -f apps/bi/superset.mk superset-start`.
#
#   make superset-venv        .venv-superset from apps/bi/requirements.lock (skipped if unchanged)
#   make superset-lock        re-resolve apps/bi/requirements.in -> requirements.lock
#   make superset-init        metadata DB upgrade, roles, admin + demo users (skipped if unchanged)
#   make superset-provision   render apps/bi/assets with this machine's lake paths and import them
#   make superset-start       gunicorn in the background on $(OPSLAKE_HOST):$(OPSLAKE_SUPERSET_PORT)
#   make superset-stop        stop it (PID file $(OPSLAKE_HOME)/run/superset.pid)
#   make superset-status
#   make superset-up          all of the above but stop, in order
#
# Every target reads OPSLAKE_HOME (default var) like the main settings do.

SUPERSET_MK_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SUPERSET_ROOT := $(abspath $(SUPERSET_MK_DIR)/../..)
BI_DIR := $(SUPERSET_ROOT)/apps/bi

UV ?= uv
OPSLAKE_HOME ?= var
OPSLAKE_HOST ?= 127.0.0.1
OPSLAKE_SUPERSET_PORT ?= 8088
SUPERSET_VENV ?= $(SUPERSET_ROOT)/.venv-superset

SUPERSET_PY := $(SUPERSET_VENV)/bin/python
SUPERSET_LOCK := $(BI_DIR)/requirements.lock
SUPERSET_VENV_STAMP := $(SUPERSET_VENV)/.opslake-lock.sha256
SUPERSET_HOME_DIR = $(abspath $(OPSLAKE_HOME))/superset
SUPERSET_INIT_STAMP = $(SUPERSET_HOME_DIR)/.init.sha256

# Everything a Superset command needs, relative paths made absolute.
SUPERSET_ENV = OPSLAKE_HOME="$(abspath $(OPSLAKE_HOME))" \
	OPSLAKE_HOST="$(OPSLAKE_HOST)" \
	OPSLAKE_SUPERSET_PORT="$(OPSLAKE_SUPERSET_PORT)" \
	OPSLAKE_SUPERSET_VENV="$(SUPERSET_VENV)" \
	SUPERSET_CONFIG_PATH="$(BI_DIR)/superset_config.py" \
	FLASK_APP=superset

.PHONY: superset-venv superset-lock superset-init superset-metrics superset-provision superset-start \
	superset-stop superset-status superset-up

# Content hash, not mtime: a fresh clone or checkout must not reinstall for nothing,
# a changed lock must.
superset-venv: ## Superset's venv (.venv-superset) from apps/bi/requirements.lock
	@want="$$(sha256sum "$(SUPERSET_LOCK)" | cut -d' ' -f1)"; \
	if [ -x "$(SUPERSET_PY)" ] && [ "$$(cat "$(SUPERSET_VENV_STAMP)" 2>/dev/null)" = "$$want" ]; then \
		echo "superset venv up to date ($(SUPERSET_VENV))"; \
	else \
		set -e; start=$$(date +%s); \
		[ -x "$(SUPERSET_PY)" ] || $(UV) venv "$(SUPERSET_VENV)" --python 3.11 -q; \
		UV_COMPILE_BYTECODE=1 $(UV) pip sync --python "$(SUPERSET_PY)" "$(SUPERSET_LOCK)" --compile-bytecode -q; \
		echo "$$want" > "$(SUPERSET_VENV_STAMP)"; \
		echo "superset venv installed in $$(( $$(date +%s) - start ))s"; \
	fi

superset-lock: ## re-resolve apps/bi/requirements.in into requirements.lock
	cd "$(SUPERSET_ROOT)" && $(UV) pip compile --python-version 3.11 --quiet \
		apps/bi/requirements.in -o apps/bi/requirements.lock

# Re-runs when the lock (Superset version) or security.yaml changed, or the metadata DB is gone.
superset-init: superset-venv ## Superset metadata DB, roles, admin + demo users
	@want="$$(cat "$(SUPERSET_LOCK)" "$(BI_DIR)/security.yaml" | sha256sum | cut -d' ' -f1)"; \
	if [ -f "$(SUPERSET_HOME_DIR)/superset.db" ] && [ "$$(cat "$(SUPERSET_INIT_STAMP)" 2>/dev/null)" = "$$want" ]; then \
		echo "superset metadata up to date ($(SUPERSET_HOME_DIR))"; \
	else \
		set -e; start=$$(date +%s); mkdir -p "$(SUPERSET_HOME_DIR)"; \
		$(SUPERSET_ENV) "$(SUPERSET_VENV)/bin/superset" db upgrade >"$(SUPERSET_HOME_DIR)/init.log" 2>&1 \
			|| { tail -30 "$(SUPERSET_HOME_DIR)/init.log"; exit 1; }; \
		$(SUPERSET_ENV) "$(SUPERSET_VENV)/bin/superset" init >>"$(SUPERSET_HOME_DIR)/init.log" 2>&1 \
			|| { tail -30 "$(SUPERSET_HOME_DIR)/init.log"; exit 1; }; \
		$(SUPERSET_ENV) "$(SUPERSET_PY)" "$(BI_DIR)/provision.py" init 2>>"$(SUPERSET_HOME_DIR)/init.log" \
			|| { tail -30 "$(SUPERSET_HOME_DIR)/init.log"; exit 1; }; \
		echo "$$want" > "$(SUPERSET_INIT_STAMP)"; \
		echo "superset metadata initialised in $$(( $$(date +%s) - start ))s"; \
	fi

# The semantic layer's metrics become dataset metrics (semantic/export.py, main venv): the
# charts name them, so the export runs before every import when the main venv is there.
MAIN_PY ?= $(SUPERSET_ROOT)/.venv/bin/python

superset-metrics: ## export the semantic layer's metrics for Superset ($(OPSLAKE_HOME)/semantic/superset_metrics.json)
	@if [ -x "$(MAIN_PY)" ]; then \
		cd "$(SUPERSET_ROOT)" && OPSLAKE_HOME="$(abspath $(OPSLAKE_HOME))" "$(MAIN_PY)" -m semantic.export \
			--out "$(abspath $(OPSLAKE_HOME))/semantic/superset_metrics.json" | head -1; \
	else echo "no main venv at $(MAIN_PY): using the last exported metrics, if any"; fi

superset-provision: superset-init superset-metrics ## import apps/bi/assets (database, datasets, charts, dashboards)
	@$(SUPERSET_ENV) "$(SUPERSET_PY)" "$(BI_DIR)/provision.py" assets 2>"$(SUPERSET_HOME_DIR)/provision.log" \
		|| { tail -30 "$(SUPERSET_HOME_DIR)/provision.log"; exit 1; }

superset-start: superset-venv ## start Superset in the background on $(OPSLAKE_HOST):$(OPSLAKE_SUPERSET_PORT)
	@$(SUPERSET_ENV) "$(SUPERSET_PY)" "$(BI_DIR)/service.py" start

superset-stop: ## stop Superset
	@$(SUPERSET_ENV) python3 "$(BI_DIR)/service.py" stop

superset-status: ## is Superset running?
	@$(SUPERSET_ENV) python3 "$(BI_DIR)/service.py" status || true

superset-up: superset-provision superset-start ## provision and start Superset
