# One entry point for every check, used by people and by .ci/run alike.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: check lint test install bench fuzz
check: lint test

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict inspector tests bench/view

test: install
	$(BIN)/python -m pytest

# The view's cost against --json on a real daemon (DOCKER_HOST, or the test dockerd as root).
bench: install
	$(BIN)/python bench/view

# The property tests with many more examples, from a new random seed: about ten minutes.
fuzz: install
	IMGINSPECT_FUZZ=1 $(BIN)/python -m pytest tests/test_fuzz.py tests/test_template_properties.py
