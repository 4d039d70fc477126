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
# fitness.png where there is no display); a second `make demo` continues the first run.
DEMO := runs/demo-cars
demo: $(STAMP)
	@if [ -f $(DEMO)/checkpoint.npz ]; then \
	    echo "continuing $(DEMO) (rm -r $(DEMO) to start afresh)"; \
	    $(BIN)/neuroevo evolve cars --resume $(DEMO); \
	else \
	    $(BIN)/neuroevo evolve cars --out $(DEMO); \
	fi

# Train a network on the curved fruit set and print its decision map.
demo-fruit: $(STAMP)
	$(BIN)/neuroevo train fruit-curved --out runs/demo --force

# The suite runs on every core (pytest-xdist; the tests that start Ray share one worker);
# `.venv/bin/python -m pytest FILE` runs one file.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n auto --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/bench_epoch.py

bench-view: $(STAMP)
	$(BIN)/python bench/bench_view.py

clean:
	rm -rf runs .pytest_cache .ruff_cache
