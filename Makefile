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

# The whole suite on SQLite, then again on PostgreSQL (a throw-away server the
# session starts; .ci/run installs Debian's postgresql) every suite that stores
# something: the engine's (runtime, timers, tasks...), the REST API's, the pages'
# and the LSPro's processes. Left out of the second pass: the tests marked
# postgres (the first pass ran them), the BPMN corpus (it checks what diagrams do,
# on a database of its own), the browser tests and the repository checks.
test: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/pytest
	$(VENV)/bin/pytest --database=postgresql -m "not postgres" \
		tests/engine tests/lspro tests/api tests/web tests/processes \
		--ignore=tests/api/test_corpus.py

lint: $(STAMP)
	$(VENV)/bin/ruff check engine api lspro tests bench
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/python bench/engine.py
