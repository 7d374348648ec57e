# Two commands for a newcomer (see README.md): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.techfile-installed
DEV    := $(VENV)/.techfile-dev-installed

.PHONY: setup system-deps run test bench clean

# `make run` needs techfile alone; `make test` adds the test tools and the integrations' extras.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV)

setup: $(STAMP)

# What the tests need beyond Python: Debian's chromium (the site is tested in a real browser) and poppler-utils.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

run: setup
	$(BIN)/techfile check sample_project
	$(BIN)/techfile build sample_project
	@echo "Open sample_project/build/site/index.html in a browser; PDFs are in sample_project/build/pdf/."

test: $(DEV) system-deps
	$(BIN)/python -m pytest -q -n 2

bench: $(DEV)
	$(BIN)/python benchmarks/bench_check.py
	$(BIN)/python benchmarks/bench_scale.py --json benchmarks/bench_scale.json
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_evaluate.py

clean:
	rm -rf $(VENV) build dist .pytest_cache sample_project/build
