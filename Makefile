# The project's commands; `make help` lists them. Every target creates or reuses .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1

.PHONY: help install test test-fast lint format bench evaluate verify clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create or update .venv with the pinned dependencies

test: $(STAMP)  ## run every test (unit, real PostgreSQL, real models, real asv runs)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## run the tests that need no model, database or asv
	$(BIN)/python -m pytest -m "not db and not models and not asv and not slow"

lint: $(STAMP)  ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

bench: $(STAMP)  ## the main job: verify the shipped claims and print the report
	$(BIN)/veracity evaluate

verify: $(STAMP)  ## verify one claim: make verify CLAIM="..."
	$(BIN)/veracity verify "$(CLAIM)"

clean:  ## remove the venv and generated files (keeps asv results)
	rm -rf $(VENV) html build dist src/*.egg-info
