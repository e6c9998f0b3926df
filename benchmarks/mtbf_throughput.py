"""MTBF analysis throughput, and the compiled flagship against its sequential run.

Run: .venv/bin/python benchmarks/mtbf_throughput.py [--homes 100] [--days 30]
Goals (issue 3): `analyse` at least 5 million rows/s on one core (measured on loaded data,
pinned to one core), against a straightforward per-row iterrows implementation of the same
rules (how the original was written), in the same run; and the compiled flagship (local
target) against its sequential run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import ROOT, Samples, compile_example, timed_run

from mtbf_example.data import Readings, load_readings
from mtbf_example.formula import mtbf
from mtbf_example.generate import generate
from mtbf_example.pipeline import run_analysis

GOAL_ROWS_PER_SECOND = 5_000_000


def iterrows_mtbf(frame: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """The rules as the original was written: one Python step per row (battery kind only
    counted here, plus the noon check), then the formula per gateway."""
    battery: dict[str, list[int]] = {}
    solar: dict[str, list[int]] = {}
    for _, reading in frame.sort_values(["gateway", "minute"]).iterrows():
        gateway = str(reading["gateway"])
        battery.setdefault(gateway, [])
        solar.setdefault(gateway, [])
        if reading["pdc"] > reading["pcons"] and reading["soc"] < 100 and reading["pbatt"] < 0:
            battery[gateway].append(int(reading["minute"]))
        if int(reading["minute"]) % 1440 == 720 and reading["pdc"] == 0:
            solar[gateway].append(int(reading["minute"]))
    return {
        g: (mtbf(np.array(battery[g])).failures, mtbf(np.array(solar[g])).failures) for g in battery
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--baseline-homes", type=int, default=3)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="toreador-mtbf-"))
    data = folder / "homes.parquet"
    started = time.perf_counter()
    list(generate(data, options.homes, options.days, seed=2026))
    print(
        f"generated {options.homes} homes x {options.days} days in "
        f"{time.perf_counter() - started:.1f} s"
    )
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the goal says
    started = time.perf_counter()
    readings = load_readings(data)
    rows = len(readings.frame)
    print(f"loaded {rows:,} rows from Parquet in {time.perf_counter() - started:.2f} s")
    runs = Samples()
    for _ in range(5):
        started = time.perf_counter()
        results, _ = run_analysis(readings, None, None, None)
        runs.add(time.perf_counter() - started)
    speed = rows / runs.median
    print(
        f"analyse (select, sort check, rules, MTBF) on one core: median {runs.median:.3f} s, "
        f"slowest {runs.slowest:.3f} s, "
        f"{speed / 1e6:.1f} million rows/s (goal {GOAL_ROWS_PER_SECOND / 1e6:.0f} million) "
        f"{'ok' if speed >= GOAL_ROWS_PER_SECOND else 'BELOW GOAL'}"
    )
    shuffled = Readings(readings.frame.sample(frac=1.0, random_state=1), readings.sources)
    started = time.perf_counter()
    run_analysis(shuffled, None, None, None)
    seconds = time.perf_counter() - started
    print(
        f"analyse on the same rows shuffled: {seconds:.3f} s, "
        f"{rows / seconds / 1e6:.1f} million rows/s"
    )
    subset_names = sorted(str(g) for g in readings.frame["gateway"].cat.categories)[
        : options.baseline_homes
    ]
    subset = readings.frame[readings.frame["gateway"].isin(subset_names)]
    started = time.perf_counter()
    baseline = iterrows_mtbf(subset)
    baseline_seconds = time.perf_counter() - started
    by_gateway = {r.gateway: (r.battery.failures, r.solar.failures) for r in results}
    assert baseline == {g: by_gateway[g] for g in subset_names}, "baseline disagrees"
    baseline_speed = len(subset) / baseline_seconds
    print(
        f"iterrows baseline on {len(subset):,} rows: {baseline_speed:,.0f} rows/s; "
        f"vectorised analyse is {speed / baseline_speed:,.0f}x faster"
    )
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    flagship = ROOT / "mtbf_example" / "mtbf.py"
    main_py = compile_example(str(flagship))
    sequential, expected = timed_run(flagship, str(data))
    compiled, got = timed_run(main_py, str(data))
    if got != expected:
        print("compiled flagship: OUTPUT DIFFERS")
        return 1
    print(
        f"flagship on {rows:,} rows: sequential {sequential:.2f} s, compiled (local, "
        f"{len(os.sched_getaffinity(0))} cores) {compiled:.2f} s, speed-up "
        f"{sequential / compiled:.2f}x"
    )
    return 0 if speed >= GOAL_ROWS_PER_SECOND else 1


if __name__ == "__main__":
    sys.exit(main())
