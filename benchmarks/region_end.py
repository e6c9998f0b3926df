"""A region's end must be prompt on every run, not only on most.

Run: .venv/bin/python benchmarks/region_end.py [--runs 50]
A small program calling a region 26 times in a loop (the shape of an iterative algorithm) is
compiled for the local target and run RUNS times in a row; the sequential program runs
alternately as the reference. Goals: the compiled program's slowest run is at most 1.6x its
median (issue 12: a worker left waiting at a region's end once cost 2 s on some runs only,
which a best-of-N benchmark never showed). Also printed: the engine's own cost per region (time
in regions less the kernels' work shared by the cores, timed by the program itself); whether
a change made it worse is for ``against_revision.py REV --only regions``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ENV, Samples, compile_example, timed_run

GOAL = 1.6
REGIONS = 26
PROGRAM = """\
import json
import sys
import time

from toreador import data_parallel_region


def work(x):
    total = 0
    for i in range(2000):
        total += (x * i) % 7
    return total


checksum = 0
in_regions = 0.0
for step in range(26):
    started = time.perf_counter()
    checksum += sum(data_parallel_region(list(range(step, step + 300)), work))
    in_regions += time.perf_counter() - started
started = time.perf_counter()
alone = sum(work(x) for step in range(26) for x in range(step, step + 300))
kernels = time.perf_counter() - started
print(checksum)
print(json.dumps({"in_regions": in_regions, "kernels": kernels}), file=sys.stderr)
"""


def engine_cost_per_region(main_py: Path, cores: int) -> float:
    """Seconds per region the engine adds to its kernels' work shared by ``cores``."""
    done = subprocess.run(
        [sys.executable, str(main_py)], capture_output=True, text=True, env=ENV, check=True
    )
    times = json.loads(done.stderr.strip().splitlines()[-1])
    return float(times["in_regions"] - times["kernels"] / cores) / REGIONS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    options = parser.parse_args()
    source = Path(tempfile.mkdtemp(prefix="toreador-region-end-")) / "iterative.py"
    source.write_text(PROGRAM)
    main_py = compile_example(str(source))
    cores = len(os.sched_getaffinity(0))
    sequential, compiled = Samples(), Samples()
    costs: list[float] = []
    for _ in range(options.runs):
        seconds, expected = timed_run(source)
        sequential.add(seconds)
        seconds, got = timed_run(main_py)
        compiled.add(seconds)
        if got != expected:
            print("OUTPUT DIFFERS")
            return 1
        costs.append(engine_cost_per_region(main_py, cores))
    spread = compiled.slowest / compiled.median
    print(f"cores: {cores}; {options.runs} alternating runs, {REGIONS} regions each")
    print(f"sequential {sequential}")
    print(f"compiled   {compiled}")
    verdict = "ok" if spread <= GOAL else "STALL"
    print(f"compiled slowest / median {spread:.2f}x (goal <= {GOAL}x): {verdict}")
    print(
        f"engine cost per region: median {statistics.median(costs) * 1000:.1f} ms, "
        f"slowest {max(costs) * 1000:.1f} ms"
    )
    return 0 if spread <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
