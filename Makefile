# Green LLM Workbench. Two commands on a fresh machine (Python >= 3.11, pip, apt):
#   make app    set everything up, then serve the web app (Voila) on 127.0.0.1
#   make test   set everything up, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: app test setup browser lessons lessons-check grade bench clean

app: setup
	$(PY) -m workbench.ui.serve $(ARGS)

test: setup browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

setup: $(STAMP)

# torch first and exactly pinned: an unpinned torch drags in gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

# Browser tests drive Debian's chromium (never `playwright install`, which downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium could not be installed: browser tests will be skipped"

# Student notebooks and autograder archives are generated from the masters, never hand-edited.
lessons: setup
	$(PY) -m workbench.lessons build

lessons-check: setup
	$(PY) -m workbench.lessons check

grade: setup
	$(PY) -m workbench grade $(NB)

bench: setup
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
