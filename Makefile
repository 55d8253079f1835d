# bedrock-tune: `make run` starts the app, `make test` runs every check.
# Both create .venv on first use and reinstall only when pyproject.toml changes.

SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed

# The first Python >= 3.11 on PATH (override with `make PYTHON=/path/to/python3.12 ...`).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	    echo $$p; break; fi; done)

.PHONY: run test test-training lint imports typecheck pytest bench sandbox mutate clean help

help:
	@echo "make run      start the bedrock-tune TUI (the sandbox when no AWS credentials resolve)"
	@echo "make test     ruff, mypy and pytest"
	@echo "make bench    the benchmarks in bench/ (slow; needs ../shared)"
	@echo "make test-training  a real training step of the QLoRA script on a tiny Llama on CPU"
	@echo "              (installs the large optional extra 'training': torch...; not in make test)"
	@echo "make mutate   mutation testing of core/ with core's tests (slow; not in make test)"
	@echo "              one module: make mutate ARGS='core.data.tokens*'"
	@echo "make sandbox  a standalone local AWS for other processes (AWS_ENDPOINT_URL)"
	@echo "make clean    remove .venv and caches"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "bedrock-tune needs Python 3.11 or newer on PATH (none found)." >&2; exit 2; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing bedrock-tune and its dependencies into $(VENV) (first run only)..."
	@# uv installs the same packages from PyPI as pip in seconds instead of a minute or two (it
	@# downloads and compiles in parallel); pip does it where uv will not install. Compiling the
	@# bytecode here costs ~13 s once; left to the first `make test`, every xdist worker and CLI
	@# process compiled the same modules again at once (~65 s longer on a fresh clone).
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
	    && $(BIN)/python -m uv --version >/dev/null 2>&1; then \
	  $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'; \
	else \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip \
	  && $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'; \
	fi
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/bedrock-tune $(ARGS)

sandbox: $(STAMP)
	@$(BIN)/bedrock-tune sandbox $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# `-n auto`: two workers per core (tests/conftest.py, pytest_xdist_auto_num_workers).
PYTEST := $(BIN)/python -m pytest -q -n auto --dist worksteal

# The suite starts ~80 Python processes (xdist workers, the CLI, aws, the sandbox). Where
# PYTHONDONTWRITEBYTECODE is set (CI images often set it), each of them would compile our own
# modules and pytest's rewritten tests from source again. The checks let Python keep the
# bytecode of what they import.
test pytest typecheck: export PYTHONDONTWRITEBYTECODE :=

pytest: $(STAMP)
	$(PYTEST) $(ARGS)

# mypy (~20 s on one core) runs beside pytest instead of before it: the wall time is the
# longer of the two. Its report is printed after pytest's, and either failing fails the target.
test: lint imports $(STAMP)
	@report=$$(mktemp); \
	$(BIN)/mypy >"$$report" 2>&1 & mypy_pid=$$!; \
	$(PYTEST) $(ARGS); pytest_status=$$?; \
	wait $$mypy_pid; mypy_status=$$?; \
	echo "$(BIN)/mypy"; cat "$$report"; rm -f "$$report"; \
	exit $$(( pytest_status != 0 || mypy_status != 0 ))

# The QLoRA script's real training step (tests/training), with torch, transformers, peft and trl
# from the optional extra `training`: large, so never part of `make test` or CI.
TRAINING_STAMP := $(VENV)/.installed-training
$(TRAINING_STAMP): $(STAMP)
	@echo "Installing the optional 'training' extra (torch, transformers, peft, trl: large)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,training]'
	@touch $(TRAINING_STAMP)

test-training: $(TRAINING_STAMP)
	BEDROCK_TUNE_TRAINING=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/training $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

# mutmut mutates core/ (a copy in mutants/) and runs tests/core against each mutant
# ([tool.mutmut] in pyproject.toml); the score is killed / (killed + survived).
mutate: $(STAMP)
	$(BIN)/mutmut run --max-children 2 $(ARGS)
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	  k, v = s['killed'], s['survived']; \
	  print(f'mutation score: {k}/{k + v} killed ({100 * k / max(k + v, 1):.1f}%), ' \
	        f'{s[\"no_tests\"]} without tests, {s[\"timeout\"]} timeouts'); \
	  print('survivors: $(BIN)/mutmut results; one diff: $(BIN)/mutmut show NAME')"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info mutants
