# Everything a fresh machine needs is installed from this file and pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench docs snapshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

## demo: lint every shipped example (the broken one makes this exit 1 on purpose)
## Before that, generate all artifacts of each example with an amlforge.yaml into a temporary
## folder inside it (so the example's own configuration applies) and lint them clean.
demo: $(STAMP)
	@set -e; for spec in examples/*/amlforge.yaml; do \
	  tmp=$$(mktemp -d "$$(dirname $$spec)/.generated.XXXXXX"); trap 'rm -rf "$$tmp"' EXIT; \
	  echo "\$$ amlforge generate $$spec -o $$tmp && amlforge lint $$tmp"; \
	  $(BIN)/amlforge generate "$$spec" -o "$$tmp"; \
	  $(BIN)/amlforge lint "$$tmp"; \
	  rm -rf "$$tmp"; trap - EXIT; \
	done
	$(BIN)/amlforge lint examples/

## test: the whole suite, with the real oracles
test: $(STAMP)
	$(BIN)/python -m pytest -q

## bench: performance figures and ratios (not tests): lint vs azure-ai-ml, generate, lock cache
bench: $(STAMP)
	$(BIN)/python bench/bench_lint.py
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_lock.py

## docs: regenerate docs/rules.md and docs/failure-modes.md from the rule catalog
docs: $(STAMP)
	$(BIN)/python -m amlforge.policies.docs

## snapshots: rebuild the rule fixtures' expected findings (review the diff before committing)
snapshots: $(STAMP)
	UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q tests/policies/test_fixtures.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
