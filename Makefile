# Two commands are all the set-up: `make run` and `make test`.
# Each creates .venv from pyproject.toml on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bot run

test: $(STAMP)
	scripts/ensure-chromium
	$(PY) -m ruff check bot knowledge flows tests scripts
	$(PY) -m ruff format --check bot knowledge flows tests scripts
	$(PY) -m mypy
	$(PY) -m knowledge validate
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m knowledge bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
