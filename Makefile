# One entry point for every check, used by people and by .ci/run alike.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: check lint test install bench fuzz
check: lint test

# The editable install copies the man page and the completion scripts into the venv's share/:
# install again when they change.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml man/imginspect.1 $(wildcard completions/*)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Each extensionless script is a __main__ of its own, so mypy checks each in a run of its own.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict inspector tests bench/view bench/benchlib.py examples/make_hello.py scripts/manpage.py scripts/manpage_text.py scripts/shell_completion.py
	$(BIN)/mypy --strict bench/completion
	$(BIN)/mypy --strict bench/run
	$(BIN)/mypy --strict bench/registry
	$(BIN)/mypy --strict bench/contents
	$(BIN)/mypy --strict scripts/generate

test: install
	$(BIN)/python -m pytest

# imginspect's start-up, one image, many images and TAB against docker image inspect and the
# interpreter's floor; the view's cost against --json, and a TAB's against `import click`; on a
# real daemon (DOCKER_HOST, or the test dockerd as root); the registry source against skopeo and
# crane on a loopback registry, directly and behind a delaying proxy; --contents against GNU tar
# reading the same layers, and its memory per entry. See docs/performance.md.
bench: install
	$(BIN)/python bench/run
	$(BIN)/python bench/registry
	$(BIN)/python bench/view
	$(BIN)/python bench/completion
	$(BIN)/python bench/contents

# The property tests with many more examples, from a new random seed: about ten minutes.
fuzz: install
	IMGINSPECT_FUZZ=1 $(BIN)/python -m pytest tests/test_fuzz.py tests/test_template_properties.py
