# Everything a fresh machine needs is installed from this file and pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz bench docs snapshots clean constraints

# The test environment: amlforge with every extra the tests need, at the versions of
# constraints.txt (a pip freeze of this environment, with the pins of Python 3.10 marked where
# they differ: it installs on 3.10-3.13), so that `make test` is reproducible while the package
# itself pins nothing exactly. `make constraints` refreshes it.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,lock,azure]' --config-settings editable_mode=compat
	touch $(STAMP)

## constraints: re-resolve the test environment from pyproject.toml alone and record it: the freeze of
## $(PYTHON) (3.11, for 3.11 and later) and, marked python_version == "3.10", the pins that differ
## on $(PYTHON310), where some of the newest releases do not install (tools/constraints.py)
PYTHON310 ?= python3.10
constraints:
	rm -rf $(VENV)-constraints $(VENV)-constraints-3.10
	$(PYTHON) -m venv $(VENV)-constraints
	$(PYTHON310) -m venv $(VENV)-constraints-3.10
	set -e; for v in $(VENV)-constraints $(VENV)-constraints-3.10; do \
	  $$v/bin/python -m pip install --quiet --upgrade pip; \
	  $$v/bin/python -m pip install --quiet '.[test,lock,azure]'; \
	  $$v/bin/python -m pip freeze --exclude amlforge > $$v/freeze.txt; \
	done
	$(PYTHON) tools/constraints.py "$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')=$(VENV)-constraints/freeze.txt" \
	  "3.10=$(VENV)-constraints-3.10/freeze.txt" > constraints.txt
	rm -rf $(VENV)-constraints $(VENV)-constraints-3.10

## demo: lint every shipped example (the broken one makes this exit 1 on purpose)
## Before that, generate all artifacts of each example with an amlforge.yaml into a temporary
## folder inside it (so the example's own configuration applies) and lint them clean.
demo: $(STAMP)
	@set -e; for spec in examples/*/amlforge.yaml; do \
	  tmp=$$(mktemp -d "$$(dirname $$spec)/.generated.XXXXXX"); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "\$$ amlforge generate $$spec -o $$(basename $$tmp) && amlforge lint $$tmp"; \
	  $(BIN)/amlforge generate "$$spec" -o "$$(basename "$$tmp")"; \
	  $(BIN)/amlforge lint "$$tmp"; \
	  rm -rf "$$tmp"; trap - EXIT; \
	done
	$(BIN)/amlforge lint examples/

## test: the whole suite, with the real oracles
test: $(STAMP)
	$(BIN)/python -m pytest -q

## fuzz: the fuzz campaign: 10,000 mutated inputs of every form amlforge reads (az-ml YAML, conda,
## score.py, amlforge.yaml, ARM, Bicep, Terraform, azure-ai-ml Python, notebooks), in-process,
## 10 s each at most; fails on any exit 3, traceback, hang, unlocated message or executed input
## (FUZZ_COUNT, FUZZ_SEED to change it; `make test` runs a fixed-seed sample of 2,000)
FUZZ_COUNT ?= 10000
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

## bench: performance figures and ratios (not tests): lint vs azure-ai-ml, start-up vs its floor, generate, lock cache, templates, server latency
bench: $(STAMP)
	$(BIN)/python bench/bench_lint.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_lock.py
	$(BIN)/python bench/bench_sdk.py
	$(BIN)/python bench/bench_templates.py
	$(BIN)/python bench/bench_server.py

## docs: regenerate docs/rules.md and docs/failure-modes.md from the rule catalog
docs: $(STAMP)
	$(BIN)/python -m amlforge.policies.docs

## snapshots: rebuild the rule fixtures' expected findings and the real-world suite's findings.json (review the diff before committing)
snapshots: $(STAMP)
	UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q tests/policies/test_fixtures.py tests/realworld/test_realworld.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
