# Outfield — the two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# scripts/services.sh prints `export DATABASE_URL=... REDIS_URL=...` for reachable services,
# starting a private PostgreSQL+PostGIS and Redis under .local/ when none are given.
SERVICES = _services="$$(bash scripts/services.sh)" && eval "$$_services"

.PHONY: help install services migrate seed run test lint openapi bench clean

help:
	@echo "make run      - API + worker on local services with demo data"
	@echo "make test     - the whole test suite (real PostgreSQL+PostGIS and Redis)"
	@echo "make lint     - ruff + mypy, Spectral + Redocly on openapi/openapi.json"
	@echo "make openapi  - regenerate openapi/openapi.json"
	@echo "make services - start (or reuse) local PostgreSQL+PostGIS and Redis"

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

services:
	@bash scripts/services.sh >/dev/null && echo "services ready (.local/services.env)"

migrate: install
	$(SERVICES) && $(BIN)/alembic upgrade head

seed: migrate
	$(SERVICES) && $(BIN)/python -m scripts.seed_demo

run: seed
	$(SERVICES) && exec bash scripts/run.sh

test: install
	bash scripts/browser.sh
	$(SERVICES) && $(BIN)/python -m pytest $(PYTEST_ARGS)

# The OpenAPI linters, pinned in tools/openapi-lint/package-lock.json (Node 20+ and npm).
OPENAPI_LINT := tools/openapi-lint
OPENAPI_LINT_STAMP := $(OPENAPI_LINT)/node_modules/.installed

$(OPENAPI_LINT_STAMP): $(OPENAPI_LINT)/package.json $(OPENAPI_LINT)/package-lock.json
	cd $(OPENAPI_LINT) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

lint: install $(OPENAPI_LINT_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy
	$(OPENAPI_LINT)/node_modules/.bin/spectral lint --ruleset $(OPENAPI_LINT)/.spectral.yaml \
		--fail-severity=hint openapi/openapi.json
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(OPENAPI_LINT)/node_modules/.bin/redocly lint \
		--config $(OPENAPI_LINT)/redocly.yaml openapi/openapi.json

openapi: install
	$(BIN)/python -m scripts.export_openapi

bench: install
	@echo "see bench/README.md for each benchmark's command"

clean:
	bash scripts/services.sh stop || true
	rm -rf $(VENV) .local
