# Two commands on a fresh machine:
#   make run    installs what the server needs and runs it on SQLite at http://127.0.0.1:8080
#   make test   installs what the tests need (Debian packages, PostgreSQL, the test guest) and runs them all
VENV ?= .venv
PYTHON ?= python3

.PHONY: run test venv lint clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	touch $@

# What the server needs to run.
$(VENV)/.installed-server: pyproject.toml | $(VENV)/.created
	$(VENV)/bin/pip install -q -e .
	touch $@

# The server and what the tests, linters and type checker need.
$(VENV)/.installed: pyproject.toml | $(VENV)/.created
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-server

venv: $(VENV)/.installed

# As root, the demo's microVMs get the Debian packages they need (scripts/demo-deps.sh; never fails).
run: $(VENV)/.installed-server
	@bash scripts/demo-deps.sh
	$(VENV)/bin/switchboard serve $(ARGS)

test: $(VENV)/.installed
	bash scripts/ci-deps.sh
	bash scripts/test.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
