# FitnessCRM: `make run` to try it, `make test` to test it. Needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DATA_DIR ?= .data
export DJANGO_SETTINGS_MODULE ?= fitnesscrm.settings.local

.PHONY: help install run serve stop-db migrate seed test test-fast lint format check bench clean chromium messages

help:
	@echo "make run      install, migrate, seed the demo gym, serve on http://localhost:$(PORT)"
	@echo "make test     run the whole test suite (installs Chromium for browser tests if missing)"
	@echo "make migrate  migrate public, the gym template and every gym (in parallel)"
	@echo "make lint     ruff check + format check, makemigrations --check, check --deploy"
	@echo "make bench    run the benchmarks under bench/"
	@echo "make messages refresh and compile the es/de/fr catalogs in locale/ (needs GNU gettext)"
	@echo "make stop-db  stop the embedded PostgreSQL (only used with no DATABASE_URL)"
	@echo "make clean    stop the embedded PostgreSQL, remove .venv and .data"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --port $(PORT)

run: seed serve

# One stock process serves HTTP and WebSockets (fitnesscrm/asgi.py); production splits them
# (Procfile). The embedded PostgreSQL (no DATABASE_URL) outlives each command so migrate, seed
# and the server's reloads share it; it stops when the server does (Ctrl-C).
serve: install
	@trap '$(BIN)/python -m fitnesscrm.embedded_db stop' EXIT; \
	$(BIN)/uvicorn fitnesscrm.asgi:application --host 0.0.0.0 --port $(PORT) --no-proxy-headers \
		--reload --reload-dir apps --reload-dir fitnesscrm --reload-dir templates

# Stops the embedded PostgreSQL servers (make run's and the test suite's) if they are running.
stop-db:
	@[ ! -x $(BIN)/python ] || $(BIN)/python -m fitnesscrm.embedded_db stop $(DATA_DIR)/pg $(DATA_DIR)/pg-test

# Debian's Chromium drives the browser tests; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests (Debian package)..."; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: install chromium
	DJANGO_SETTINGS_MODULE=fitnesscrm.settings.test $(BIN)/pytest

# Keeps the test database between runs: much faster locally, never in CI.
test-fast: install
	DJANGO_SETTINGS_MODULE=fitnesscrm.settings.test $(BIN)/pytest --reuse-db -m "not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=fitnesscrm.settings.production \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-lint-only-$$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')} \
	FIELD_ENCRYPTION_KEYS=$${FIELD_ENCRYPTION_KEYS:-$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')} \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/tenant_provisioning.py
	$(BIN)/python bench/mixed_load.py

# Refreshes the catalogs in locale/ from the code, compiles them, and counts what is left to
# translate (needs GNU gettext: xgettext, msgmerge, msgfmt). The compiled .mo files are
# committed, so running the app needs no gettext. See README, "Translations".
LANGS := es de fr
messages: install
	$(BIN)/python manage.py makemessages $(addprefix -l ,$(LANGS)) --no-obsolete \
		--ignore '.venv/*' --ignore '.data/*' --ignore 'node_modules/*'
	$(BIN)/python manage.py compilemessages $(addprefix -l ,$(LANGS)) \
		--ignore '.venv' --ignore '.data' --ignore 'node_modules'
	@for lang in $(LANGS); do \
		po=locale/$$lang/LC_MESSAGES/django.po; \
		echo "$$lang: $$(msgattrib --untranslated --no-obsolete $$po | grep -c '^msgid ' | \
			awk '{print ($$1 > 0 ? $$1 - 1 : 0)}') untranslated, $$(msgattrib --only-fuzzy \
			--no-obsolete $$po | grep -c '^msgid ' | awk '{print ($$1 > 0 ? $$1 - 1 : 0)}') fuzzy"; \
	done

clean: stop-db
	rm -rf $(VENV) .data
