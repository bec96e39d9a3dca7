# The two commands of README.md: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed
# The web pages' front-end libraries (bpmn-js, form-js) from the npm registry;
# install scripts are not needed (the packages ship built files) and not run.
NODE_STAMP := node_modules/.installed

.PHONY: run test lint bench

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/sertiflow run

test: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check engine api lspro tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python bench/engine.py
