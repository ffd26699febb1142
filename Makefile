# The compendium's two commands: `make test` and `make book` (see README.md).
# Both bootstrap .venv from the exact lock on first use and reuse it afterwards.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := $(shell cat requirements/uv-version.txt)
# Re-install when the lock or the package metadata changes.
STAMP := $(VENV)/.qmlkit-installed
# off: render the stored outputs that `make test` validated with nbval (default);
# force: execute every chapter during the build; cache: execute through jupyter-cache.
EXECUTE ?= off
PYTEST_ARGS ?=
BROWSER_TEST_ARGS ?=
# Two workers (the machine has 2 cores); loadscope keeps each notebook's cells in one kernel.
PYTEST_WORKERS ?= 2

.PHONY: help env test unit notebooks book browser-test lock outputs clean

help:
	@echo "make test     unit tests (pytest) + nbval over every chapter + papermill rerun test"
	@echo "make book     build the HTML book into _build/html (EXECUTE=off|force|cache)"
	@echo "make browser-test  check every page of the built book in headless Chromium"
	@echo "make env      create .venv from requirements/lock.txt (done by test and book)"
	@echo "make lock     re-resolve requirements/base.in into requirements/lock.txt"
	@echo "make outputs  re-execute the chapters in place (refresh the stored outputs)"

$(STAMP): requirements/lock.txt requirements/uv-version.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert (3, 10) <= sys.version_info[:2] < (3, 13), sys.version'
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -r requirements/lock.txt
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $@

env: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest tests qmlkit chapters --ignore=tests/browser --doctest-modules --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg \
		--nbval-current-env --nbval-cell-timeout=900 -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

book: $(STAMP)
	$(BIN)/python tools/build_book.py --execute $(EXECUTE)

# After `make book`: every page of _toc.yml in the system Chromium (tests/browser), with
# screenshots in _build/screenshots/. A missing book or browser fails here instead of skipping.
browser-test: $(STAMP)
	QMLKIT_REQUIRE_BOOK=1 $(BIN)/python -m pytest tests/browser -p no:cacheprovider $(BROWSER_TEST_ARGS)

lock:
	$(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(PYTHON) -m uv pip compile requirements/base.in --override requirements/overrides.txt \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		-o requirements/lock.txt
	$(PYTHON) tools/lockfile.py write-env

outputs: $(STAMP)
	$(BIN)/python tools/execute_chapters.py

clean:
	rm -rf _build .pytest_cache
