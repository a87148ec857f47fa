# The two commands of a fresh machine (see README): `make demo` and `make test`.
# Each creates its own virtual environment in .venv and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint install install-dev clean faults

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

demo: install
	$(BIN)/celltls demo

test: install-dev
	$(BIN)/python -m pytest -q --tb=native
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# Fault injection at scale (tests/faults runs a few fixed seeds): RUNS runs per fault kind and
# target; prints a table (see benchmarks/README.md).
RUNS ?= 100
faults: install-dev
	$(BIN)/python benchmarks/faults.py --runs $(RUNS)

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
