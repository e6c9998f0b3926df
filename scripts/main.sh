#!/usr/bin/env bash
# The main job, set-up included: compile example programs for the local target, run them and
# check with verify mode that they print exactly what the sequential programs print.
# (The MTBF flagship takes this place once it lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${TOREADOR_OUT:-out}
mkdir -p "$out"
for example in nested many_tiny generator_producer; do
  echo "== examples/$example.py -> $out/$example-local (pattern auto, target local)"
  .venv/bin/toreador-compile "examples/$example.py" --target local -o "$out/$example-local"
  .venv/bin/python "$out/$example-local/Main.py" | tail -n 4
  echo "-- verify (sequential vs generated):"
  .venv/bin/toreador-compile "examples/$example.py" -o "$out/$example-local" --verify 2>/dev/null
done
