# Two commands for a newcomer (see README.md): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.techfile-installed

.PHONY: setup run test bench schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/techfile check sample_project

test: setup
	$(BIN)/python -m pytest -q -n 2

bench: setup
	$(BIN)/python benchmarks/bench_check.py

clean:
	rm -rf $(VENV) build dist .pytest_cache sample_project/build
