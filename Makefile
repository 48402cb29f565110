# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/helpdesk_test
export TEST_DATABASE_URL

.PHONY: install run test test-fast test-e2e test-sqlite bench lint messages clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q ".[dev]"
	touch $(STAMP)

# Embedded defaults: SQLite, Celery on a filesystem broker, mail written to var/mail/.
run: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo
	@echo "Helpdesk: http://$(HOST):$(PORT)/login/  (outgoing mail lands in var/mail/)"
	DEBUG=true HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/python -m pytest -p no:cacheprovider
	$(MAKE) --no-print-directory test-sqlite

test-fast: install
	$(BIN)/python -m pytest -m "not e2e" -x

test-e2e: install
	$(BIN)/python -m pytest -m e2e

# The embedded default works too: the smoke suite on SQLite.
test-sqlite: install
	mkdir -p var
	TEST_DATABASE_URL=sqlite:///$(CURDIR)/var/test-smoke.sqlite3 $(BIN)/python -m pytest -p no:cacheprovider -m smoke

bench: install
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check .

messages: install
	cd $(CURDIR) && $(BIN)/python manage.py makemessages -l ru -l uk -l de --no-obsolete --no-location && $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
