# Ieum: `make demo` serves the demo, `make test` runs the whole suite. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Commands that only need settings (no secrets): run them with the demo defaults.
MANAGE := DEBUG=1 $(BIN)/python manage.py
# With DATABASE_URL unset, the demo and the tests use the embedded PostgreSQL under var/pg
# (docs/operations.md). Reading the settings starts nothing; `db` and the test settings start it.
EMBEDDED_PG := $(BIN)/python -m config.embedded_postgres

.PHONY: demo test bench install db lint check-migrations messages makemessages serve clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compiled catalogs are build output (locale/*/LC_MESSAGES/django.mo is git-ignored).
messages: $(VENV)/.installed
	$(MANAGE) compilemessages --ignore=.venv --ignore=node_modules -v0

install: $(VENV)/.installed node_modules/.installed messages

# Initialise (first time) and start the embedded PostgreSQL unless DATABASE_URL names a server;
# a cluster already running is reused as it is.
db: $(VENV)/.installed
	@if [ -z "$$DATABASE_URL" ]; then $(EMBEDDED_PG) start; fi

demo: install db
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo "Ieum demo: http://127.0.0.1:8000  (accounts: docs/demo.md, password \$$DEMO_PASSWORD or ieum-demo-2026)"
	$(MANAGE) runserver 127.0.0.1:8000

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

check-migrations: $(VENV)/.installed
	$(MANAGE) makemigrations --check --dry-run

test: install lint db check-migrations
	$(BIN)/python -m pytest

# Hot paths under load against gunicorn and PostgreSQL (BENCH_TIER=district|seoul); see
# docs/performance.md. Loads the tier into its own database first when it is missing.
bench: install
	$(BIN)/python bench/run.py

# Refresh the English catalog after changing UI text (Korean is the source language).
makemessages: $(VENV)/.installed
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=node_modules --ignore=staticfiles --no-obsolete

# Stops the embedded PostgreSQL and removes its data (the demo database with it).
clean:
	if [ -x $(BIN)/python ]; then $(EMBEDDED_PG) stop; fi
	rm -rf $(VENV) node_modules staticfiles var/pg
