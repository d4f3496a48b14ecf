#!/usr/bin/env bash
# Green LLM Workbench: set-up and the everyday commands, for a fresh machine that has only
# Python (>= 3.11), pip and apt.
#
#   ./workbench.sh app      set everything up, then serve the web app (Voila) on 127.0.0.1
#   ./workbench.sh test     set everything up, then run the whole test suite
#   ./workbench.sh lessons  regenerate student notebooks and autograder archives from the masters
#   ./workbench.sh grade NB|DIR   grade a submitted notebook (or a folder of them)
#   ./workbench.sh bench    run every benchmark in quick mode
#   ./workbench.sh setup    only set up .venv
# Anything after the command is passed on (e.g. ./workbench.sh app --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=.venv
PY=$VENV/bin/python

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

setup() {
  if [ ! -x "$PY" ]; then
    "$PYTHON" -m venv "$VENV" 2>/dev/null || {
      echo "python3 -m venv failed: installing Debian's python3-venv"; rm -rf "$VENV"
      as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$VENV"; }
  fi
  # Reinstall only when pyproject.toml changed since the last set-up.
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    echo "setting up $VENV (first time: a few minutes)"
    "$PY" -m pip install --quiet --upgrade pip
    # torch first and exactly pinned: an unpinned torch drags in gigabytes of CUDA packages.
    "$PY" -m pip install --quiet torch==2.13.0
    "$PY" -m pip install --quiet -e ".[test]"
    touch "$VENV/.installed"
  fi
}

browser() {
  # Browser tests drive Debian's chromium (never `playwright install`: it downloads a browser).
  command -v chromium >/dev/null 2>&1 && return 0
  echo "installing Debian's chromium for the browser tests"
  { as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null; } ||
    echo "chromium could not be installed: browser tests will be skipped"
}

cmd=${1:-help}; shift || true
case "$cmd" in
  setup)   setup ;;
  app)     setup; exec "$PY" -m workbench.ui.serve "$@" ;;
  test)    setup; browser; exec "$PY" -m pytest -q "$@" ;;
  lessons) setup; exec "$PY" -m workbench.lessons build "$@" ;;
  grade)   setup; exec "$PY" -m workbench grade "$@" ;;
  bench)   setup; for b in benchmarks/*.py; do echo "== $b"; "$PY" "$b" --quick "$@"; done ;;
  *) sed -n '2,12p' "$0"; [ "$cmd" = help ] ;;
esac
