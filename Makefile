# leaktrace: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-out

.PHONY: venv demo test lint typecheck bench bench-live clean

$(BIN)/leaktrace: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/leaktrace

demo: venv
	$(BIN)/leaktrace demo --out $(DEMO_DIR)

test: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest --cov --cov-report=term:skip-covered -q

lint: venv
	$(BIN)/ruff check src tests bench

typecheck: venv
	$(BIN)/mypy

bench: venv
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/pcap.py
	$(BIN)/python bench/analyze.py
	$(BIN)/python bench/inventory.py

bench-live: venv
	$(BIN)/python bench/live.py --runs 5

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
