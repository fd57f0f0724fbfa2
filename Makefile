# Ieum: `make demo` serves the demo, `make test` runs the whole suite. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Commands that only need settings (no secrets): run them with the demo defaults.
MANAGE := DEBUG=1 $(BIN)/python manage.py

.PHONY: demo test bench install lint check-migrations messages makemessages serve clean

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

demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@echo "Ieum demo: http://127.0.0.1:8000  (accounts: DEMO.md, password \$$DEMO_PASSWORD or ieum-demo-2026)"
	$(MANAGE) runserver 127.0.0.1:8000

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-migrations: $(VENV)/.installed
	$(MANAGE) makemigrations --check --dry-run

test: install lint check-migrations
	$(BIN)/python -m pytest

# Hot paths under load against gunicorn and PostgreSQL (BENCH_TIER=district|seoul); see
# docs/performance.md. Loads the tier into its own database first when it is missing.
bench: install
	$(BIN)/python bench/run.py

# Refresh the English catalog after changing UI text (Korean is the source language).
makemessages: $(VENV)/.installed
	$(MANAGE) makemessages -l en --ignore=.venv --ignore=node_modules --ignore=staticfiles --no-obsolete

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3
