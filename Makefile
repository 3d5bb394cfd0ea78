# DragonRec: `make demo` runs the whole system on embedded services; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast screenshots lint browser frontend-deps frontend-test api-types services-start services-stop services-status bench clean

# Reinstalls only when requirements.txt changed since the last install.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/demo.py

# The settings are explicit: importing `config` (celery.py) defaults the variable to dev for child processes.
test: $(STAMP) lint browser frontend-test
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m config.embedded run -- $(PY) -m pytest $(PYTEST_ARGS)

# The edit-test loop: the suite without the browser tests and the schema fuzzing, and without lint or Vitest (the
# markers are registered in pyproject.toml). `make test` (and CI) still runs everything.
test-fast: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m config.embedded run -- \
		$(PY) -m pytest -m "not browser and not fuzz" $(PYTEST_ARGS)

# The README's pictures: the browser tests that take them, writing into docs/screenshots/ (plain `make test` writes
# them under the ignored var/screenshots/, so a test run never dirties the checkout).
screenshots: $(STAMP) browser
	DRAGONREC_SCREENSHOTS=docs DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m config.embedded run -- \
		$(PY) -m pytest tests/e2e/test_storefront.py tests/e2e/test_admin_screenshots.py $(PYTEST_ARGS)

# mypy reads [tool.mypy] in pyproject.toml; its cache (var/mypy_cache) makes a re-run take seconds. Then the
# storefront: ESLint (frontend/eslint.config.js), and its API types against the OpenAPI schema (a drift fails:
# `make api-types` regenerates them). Both need node_modules, hence frontend-deps first.
lint: $(STAMP) frontend-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m config.frontend lint
	$(PY) -m config.api_types --check

browser:
	@scripts/ensure_chromium.sh

# The storefront's node_modules: `npm ci` only when the lock file changed since the last install.
frontend-deps: $(STAMP)
	$(PY) -m config.frontend install

# The storefront's and the tracking client's unit tests (Vitest).
frontend-test: $(STAMP) frontend-deps
	$(PY) -m config.frontend test

# frontend/src/api/schema.d.ts from the OpenAPI schema (after an API change; `make lint` says when it is due).
api-types: $(STAMP) frontend-deps
	$(PY) -m config.api_types

services-start: $(STAMP)
	$(PY) -m config.embedded start
services-stop: $(STAMP)
	$(PY) -m config.embedded stop
services-status: $(STAMP)
	$(PY) -m config.embedded status

clean:
	-$(PY) -m config.embedded stop
	rm -rf var
