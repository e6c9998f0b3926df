#!/usr/bin/env bash
# The main job, set-up included: the MTBF flagship end to end on the local target.
# 1. generate a small synthetic data set partitioned by gateway (homes with failures injected
#    at known minutes); HOMES=1000 DAYS=365 is an energy company's year (525.6 M readings,
#    about half an hour to generate on 2 cores, see docs/mtbf-example.md),
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
data="$out/homes"
rm -rf "$data"  # this script's own output of an earlier run
echo "== 1. generating $homes homes x $days days into $data (one folder per gateway)" >&2
.venv/bin/python -m mtbf_example generate "$data" --homes "$homes" --days "$days" \
  --seed 2017 --truth "$out/truth.json"
echo "== 2. compiling mtbf_example/mtbf.py for the local target into $out/mtbf-local" >&2
.venv/bin/toreador-compile mtbf_example/mtbf.py --target local -o "$out/mtbf-local"
echo "== 3. running the compiled flagship: python $out/mtbf-local/Main.py $data" >&2
.venv/bin/python "$out/mtbf-local/Main.py" "$data" --json "$out/mtbf.json" \
  | tee "$out/report.txt"
.venv/bin/python mtbf_example/mtbf.py "$data" > "$out/report-sequential.txt"
if cmp -s "$out/report.txt" "$out/report-sequential.txt"; then
  echo "== the compiled report is identical to the sequential one" >&2
else
  echo "== the compiled report DIFFERS from the sequential one" >&2
  diff "$out/report-sequential.txt" "$out/report.txt" >&2 || true
  exit 1
fi
echo "== 4. chart: $out/mtbf.png" >&2
.venv/bin/python -m mtbf_example chart "$data" --out "$out/mtbf.png" >&2
