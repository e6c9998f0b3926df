"""A region's end must be prompt on every run, not only on most.

Run: .venv/bin/python benchmarks/region_end.py [--runs 50]
A small program calling a region 26 times in a loop (the shape of an iterative algorithm) is
compiled for the local target and run RUNS times in a row; the sequential program runs
alternately as the reference. Goal (issue 12): the compiled program's slowest run is at most
1.6x its median. A worker left waiting at a region's end once cost 2 s on some runs only, which
a best-of-N benchmark never showed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from common import Samples, compile_example, timed_run

GOAL = 1.6
PROGRAM = """\
from toreador import data_parallel_region


def work(x):
    total = 0
    for i in range(2000):
        total += (x * i) % 7
    return total


checksum = 0
for step in range(26):
    checksum += sum(data_parallel_region(list(range(step, step + 300)), work))
print(checksum)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    options = parser.parse_args()
    source = Path(tempfile.mkdtemp(prefix="toreador-region-end-")) / "iterative.py"
    source.write_text(PROGRAM)
    main_py = compile_example(str(source))
    sequential, compiled = Samples(), Samples()
    for _ in range(options.runs):
        seconds, expected = timed_run(source)
        sequential.add(seconds)
        seconds, got = timed_run(main_py)
        compiled.add(seconds)
        if got != expected:
            print("OUTPUT DIFFERS")
            return 1
    spread = compiled.slowest / compiled.median
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}; {options.runs} alternating runs, 26 regions each")
    print(f"sequential {sequential}")
    print(f"compiled   {compiled}")
    verdict = "ok" if spread <= GOAL else "STALL"
    print(f"compiled slowest / median {spread:.2f}x (goal <= {GOAL}x): {verdict}")
    return 0 if spread <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
