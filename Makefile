# Two commands on a fresh machine:
#   make run    installs what the server needs and runs it on SQLite at http://127.0.0.1:8080
#   make test   installs what the tests need (Debian packages, PostgreSQL, the test guest) and runs them all
VENV ?= .venv
PYTHON ?= python3

.PHONY: run test venv lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(VENV)/bin/switchboard serve $(ARGS)

test: $(VENV)/.installed
	bash scripts/ci-deps.sh
	bash scripts/test.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
