# Two commands on a fresh machine:
#   make demo   set up if needed, then run the main job on a local Anvil
#   make test   set up if needed, then run the whole test suite
# Set-up is idempotent: each step is redone only when its inputs change.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

PY_STAMP := $(VENV)/.requirements.stamp
NPM_STAMP := node_modules/.package-lock.stamp
SOLC_VERSION := 0.8.24

.PHONY: setup setup-run demo test deploy fuzz slither bench bench-quick clean help

help:
	@echo "make demo    set up if needed, then run the main job (local Anvil)"
	@echo "make test    set up if needed, then run the whole test suite"
	@echo "make fuzz    long stateful fuzzing campaign of the contracts"
	@echo "make slither static analysis of the contracts"
	@echo "make bench   run every benchmark (writes benchmarks/results/)"

# The pinned set (requirements.txt: runtime dependencies, the `dev` extra and setuptools), then the
# package itself, editable, built with that setuptools (no isolated build). uv installs the same
# pinned versions as pip would, in parallel and without compiling bytecode up front: set-up from
# nothing takes seconds instead of minutes (modules are compiled on first import).
UV_VERSION := 0.13.9
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python
$(PY_STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) -r requirements.txt
	$(UV) --no-deps --no-build-isolation -e .
	touch $@

# Schemathesis (fuzzing the services from their OpenAPI schema) needs a newer hypothesis than
# brownie pins, so it lives in a venv of its own inside .venv; uv fills it in seconds.
ST_VENV := $(VENV)/schemathesis
ST_STAMP := $(ST_VENV)/.requirements.stamp
$(ST_STAMP): tools/schemathesis.txt $(PY_STAMP)
	test -x $(ST_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(ST_VENV)
	$(BIN)/uv pip install --quiet --python $(ST_VENV)/bin/python -r tools/schemathesis.txt
	touch $@

# `npm install --no-save` installs exactly the lock file's versions; `npm ci` would refuse the
# lock because the registry mirror does not list Anvil's packages for other platforms.
$(NPM_STAMP): package.json package-lock.json
	npm install --no-save --no-audit --no-fund --loglevel=error
	touch $@

# The Python and npm installs are independent: run them side by side. What the main job needs
# (the package and Anvil) comes first; the development tools (Schemathesis' venv, the compiler)
# after, for the tests.
setup-run:
	@$(MAKE) --no-print-directory -j2 $(PY_STAMP) $(NPM_STAMP)

setup: setup-run
	@$(MAKE) --no-print-directory $(ST_STAMP)
	@$(BIN)/python -m crowdsense.chain.toolchain --version $(SOLC_VERSION)

# The demo deploys the contract artifacts shipped in the package: it needs no compilation.
demo: setup-run
	$(BIN)/crowdsense demo

deploy: setup
	$(BIN)/brownie run scripts/deploy.py

# The tests of the benchmarks' shared code sit beside it in benchmarks/ (pytest puts benchmarks/
# on sys.path for them, as `python benchmarks/throughput.py` does for the scripts).
TESTS ?= tests benchmarks/batchsend benchmarks/test_benchkit.py
test: setup
	$(BIN)/brownie test $(TESTS)

fuzz: setup
	FUZZ_STEPS=$${FUZZ_STEPS:-10000} $(BIN)/brownie test tests/contracts/test_stateful.py -s

slither: setup
	$(BIN)/python tools/slither_check.py

# The benchmark scripts (benchmarks/ also holds the modules they share).
BENCHMARKS = benchmarks/classify.py benchmarks/ctbc.py benchmarks/gas.py benchmarks/leakage.py \
             benchmarks/merkle.py benchmarks/pdc.py benchmarks/services.py benchmarks/throughput.py

bench: setup
	for b in $(BENCHMARKS); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Quick modes write to a scratch folder so that committed full results stay as they are.
bench-quick: setup
	for b in $(BENCHMARKS); do echo "== $$b --quick"; \
	  $(BIN)/python $$b --quick --out-dir $${TMPDIR:-/tmp}/crowdsense-bench-quick || exit 1; done

# Mutation testing of the protocol-critical modules (mutmut; hours on two cores, the Anvil-backed
# txsend group longest; not part of `make test`): writes benchmarks/results/mutation.json.
# See docs/benchmarks.md.
.PHONY: mutation
mutation: setup
	$(BIN)/python benchmarks/mutation.py

clean:
	rm -rf build reports .pytest_cache .hypothesis
