#!/usr/bin/env bash
# The main job, set-up included: the MTBF flagship end to end on the local target.
# 1. generate a small synthetic data set (homes with failures injected at known minutes),
# 2. compile the annotated mtbf_example/mtbf.py for the local target,
# 3. run the generated program and print its report (checked against the sequential run),
# 4. write the chart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
out=${TOREADOR_OUT:-out}
homes=${HOMES:-8}
days=${DAYS:-7}
mkdir -p "$out"
echo "== 1. generating $homes homes x $days days into $out/homes.parquet" >&2
.venv/bin/python -m mtbf_example generate "$out/homes.parquet" --homes "$homes" --days "$days" \
  --seed 2017 --truth "$out/truth.json"
echo "== 2. compiling mtbf_example/mtbf.py for the local target into $out/mtbf-local" >&2
.venv/bin/toreador-compile mtbf_example/mtbf.py --target local -o "$out/mtbf-local"
echo "== 3. running the compiled flagship: python $out/mtbf-local/Main.py $out/homes.parquet" >&2
.venv/bin/python "$out/mtbf-local/Main.py" "$out/homes.parquet" --json "$out/mtbf.json" \
  | tee "$out/report.txt"
.venv/bin/python mtbf_example/mtbf.py "$out/homes.parquet" > "$out/report-sequential.txt"
if cmp -s "$out/report.txt" "$out/report-sequential.txt"; then
  echo "== the compiled report is identical to the sequential one" >&2
else
  echo "== the compiled report DIFFERS from the sequential one" >&2
  diff "$out/report-sequential.txt" "$out/report.txt" >&2 || true
  exit 1
fi
echo "== 4. chart: $out/mtbf.png" >&2
.venv/bin/python -m mtbf_example chart "$out/homes.parquet" --out "$out/mtbf.png" >&2
