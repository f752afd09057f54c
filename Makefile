# Essaim — the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE := essaim.settings

.PHONY: run test lint bench install install-dev frontend messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Essaim needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Each stamp is rebuilt when the files that pin its packages change.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Essaim needs Node.js and npm for its front-end packages"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed
install-dev: $(VENV)/.installed-dev node_modules/.installed

run: install
	$(BIN)/essaim migrate --no-input
	$(BIN)/essaim demo --if-empty
	PORT=$(PORT) $(BIN)/essaim serve

test: install-dev lint
	$(BIN)/python -m pytest -n $${PYTEST_WORKERS:-auto} $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy essaim

bench: install-dev
	$(BIN)/python bench/run_all.py

# Regenerate translation catalogues (needs GNU gettext); the compiled .mo files are committed.
messages: install-dev
	cd essaim && ../$(BIN)/django-admin makemessages -l fr --no-obsolete && ../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) node_modules
