# The project's commands; `make help` lists them. Every target creates or reuses .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1

.PHONY: help install models valgrind test test-slow test-fast lint format bench evaluate verify calibrate regressions targets publish pr-bench clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) models valgrind  ## .venv with the pinned dependencies, then everything a first use builds (cached)

VALGRIND_HINT := make: valgrind not found: the work benchmarks (instruction counts) skip without it; install it with 'sudo apt-get install valgrind'

valgrind:  ## valgrind for the work benchmarks: apt-get install as root on Debian, else a one-line hint
	@command -v valgrind >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null) || echo "$(VALGRIND_HINT)"; \
	  else echo "$(VALGRIND_HINT)"; fi; }

models: $(STAMP)  ## the default NLI model, ONNX graphs and corpus embeddings, built once into the cache
	$(BIN)/veracity models build

test: install  ## the default test run: unit, real PostgreSQL, real models, real asv runs (not the slow suites)
	$(BIN)/python -m pytest -m "not slow"

test-slow: install  ## the slow suites: asv end to end with Chromium, real signals and faults, secrets, soak (CI runs them too)
	$(BIN)/python -m pytest -m slow

test-fast: $(STAMP)  ## run the tests that need no model, database or asv
	$(BIN)/python -m pytest -m "not db and not models and not asv and not slow"

lint: $(STAMP)  ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

COMMITS ?= 5
BENCH_ARGS ?=

bench: install  ## the main job: asv over the last COMMITS commits (default 5), publish html/, report regressions
	$(BIN)/veracity bench --commits $(COMMITS) $(BENCH_ARGS)

evaluate: $(STAMP)  ## verdict accuracy and latency of the pipeline on the shipped claims
	$(BIN)/veracity evaluate

calibrate: $(STAMP)  ## A/A runs of HEAD -> benchmarks/noise.json (commit it)
	$(BIN)/veracity calibrate --runs 5

regressions: $(STAMP)  ## open regressions of the latest commit (exit 1 if any)
	$(BIN)/veracity regressions

targets: $(STAMP)  ## product targets on the latest commit
	$(BIN)/veracity targets

publish: $(STAMP)  ## html/ with direction-aware regressions and the targets page
	$(BIN)/veracity publish

pr-bench: $(STAMP)  ## benchmark HEAD against BASE (default main), as CI does
	PYTHON=$(BIN)/python scripts/pr_benchmarks.sh $(or $(BASE),main) HEAD

verify: $(STAMP)  ## verify one claim: make verify CLAIM="..."
	$(BIN)/veracity verify "$(CLAIM)"

clean:  ## remove the venv and generated files (keeps asv results)
	rm -rf $(VENV) html build dist src/*.egg-info
