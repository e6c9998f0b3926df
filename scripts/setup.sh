#!/usr/bin/env bash
# Creates .venv and installs toreador with its development tools. Idempotent; works on a fresh
# machine of this kind (Python 3.11 with venv, PyPI reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip>=24" >&2
# strict editable mode: a link tree that maps primitives/, compiler/, ... onto `toreador`,
# so that mypy and every tool see the installed layout.
.venv/bin/python -m pip install --quiet -e ".[dev,mtbf,stream,spark,docker,web]" --config-settings editable_mode=strict >&2
