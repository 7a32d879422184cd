# Two commands work on a fresh machine: `make report` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned to the local CPU build; a loose "torch" would pull a multi-GB CUDA wheel.
TORCH := torch==2.13.0
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
ARGS ?=
# The exam's real problem2 folder, when it sits beside the checkout, feeds the report.
PROBLEM2 ?= $(wildcard ../shared/data/problem2)

.PHONY: report test bench lint format clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP_TEST): $(STAMP_RUN)
	$(BIN)/pip install -q -e '.[test]'
	touch $@

report: $(STAMP_RUN)
	$(BIN)/convlens report --out report $(if $(PROBLEM2),--problem2 $(PROBLEM2)) $(ARGS)

test: $(STAMP_TEST) lint
	$(BIN)/python -m pytest -q $(ARGS)

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP_TEST)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP_TEST)
	@# Baal is a benchmark-only peer; --no-deps skips its jupyter requirement.
	-$(BIN)/pip install -q --no-deps 'baal>=2' 'structlog<23' && $(BIN)/pip install -q 'torchmetrics<2'
	@cd benchmarks && for f in bench_*.py; do echo "== $$f"; ../$(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) report build *.egg-info src/*.egg-info
