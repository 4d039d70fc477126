# Two commands for a fresh clone:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo demo-fruit test lint bench bench-view clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Evolve self-driving cars in a window (headless with a progress bar and a final
# fitness.png where there is no display).
demo: $(STAMP)
	$(BIN)/neuroevo evolve cars --out runs/demo-cars

# Train a network on the curved fruit set and print its decision map.
demo-fruit: $(STAMP)
	$(BIN)/neuroevo train fruit-curved --out runs/demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/bench_epoch.py

bench-view: $(STAMP)
	$(BIN)/python bench/bench_view.py

clean:
	rm -rf runs .pytest_cache .ruff_cache
