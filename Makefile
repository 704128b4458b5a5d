# abiscope developer entry points. `make test` is what CI runs (.ci/run) after installing
# the Debian packages listed in .ci/debian-packages.txt (`make deps`, as root).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test quick lint deps bench clean

$(VENV)/.installed: pyproject.toml setup.py src/abiscope/frontend/_facts.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/abiscope demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests bench tools
	$(VENV)/bin/mypy --strict src/abiscope

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

quick: $(VENV)/.installed
	$(PY) -m pytest -m 'not slow' -x -q $(PYTEST_ARGS)

deps:
	apt-get update -qq
	apt-get install -y --no-install-recommends $$(grep -v '^#' .ci/debian-packages.txt)

bench: $(VENV)/.installed
	$(PY) bench/layout_corpus.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
