# footdt — two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs the package with its dependencies, and (as root) the Debian
# package calculix-ccx. Without root, CalculiX checks skip with a message.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
TYPED  := footdt

.PHONY: install system-deps test test-fast test-slow lint typecheck demo docs bench fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@need=""; command -v ccx >/dev/null 2>&1 || need="calculix-ccx"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	if [ -z "$$need" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian packages:$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	else echo "note: not root, so not installing:$$need (CalculiX / PostgreSQL checks will be skipped)"; fi

lint: install
	$(BIN)/ruff check footdt tests benchmarks
	$(BIN)/ruff format --check footdt tests benchmarks

typecheck: install
	$(BIN)/mypy $(TYPED)

test-fast: install system-deps
	$(BIN)/pytest -q

# slow checks (convergence studies, larger models) are kept out of the default run; CI runs them.
test-slow: install system-deps
	$(BIN)/pytest -q -m slow -p no:cacheprovider || [ $$? -eq 5 ]

test: lint typecheck test-fast test-slow

# The demo needs no PostgreSQL; CalculiX (optional) adds the cross-check of the open solvers.
demo: install
	@command -v ccx >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && echo "installing Debian package: calculix-ccx" && apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq calculix-ccx >/dev/null; } \
	  || echo "note: CalculiX not installed (not root?): the demo skips the SfePy-CalculiX cross-check"
	$(BIN)/footdt demo

docs: install
	$(BIN)/mkdocs build --strict --site-dir build/site

# The long fuzz runs (the default test run does a bounded number of cases): `footdt validate` over
# mutated specs (docs/robustness.md), then recordings (docs/gait.md).
FUZZ_CASES ?= 20000
FUZZ_SEED ?= 1
fuzz: install
	$(PY) -m tests.fuzz.run --cases $(FUZZ_CASES) --seed $(FUZZ_SEED) --json build/fuzz.json
	FOOTDT_FUZZ_CASES=3000 $(BIN)/pytest -q -s -p no:cacheprovider tests/gait/test_fuzz_recordings.py -k read_or_refused

bench: install system-deps
	$(PY) benchmarks/bench_block.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
