"""Speed-up of compiled programs (local target) over the sequential reference, in one run.

Run: .venv/bin/python benchmarks/speedup.py [--quick]
Goal (issue 2): at least 1.8x on 2 cores for 300,000 tiny items and for 16 heavy items.
Each case runs sequential, compiled and a hand-written Pool alternately, REPEAT times, so a noisy
neighbour on a shared machine hurts all sides alike. Speed-ups are ratios of medians, and the
slowest run of each side is printed too: a stall on some runs must show, not hide behind a best.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from common import EXAMPLES, Samples, compile_example, timed_run

CASES = [
    ("300,000 tiny items (Collatz lengths)", "many_tiny.py", "tiny", ["300000"]),
    (
        "16 heavy items (Monte Carlo, 1,000,000 samples each)",
        "few_heavy.py",
        "heavy",
        ["16", "1000000"],
    ),
]
POOL = Path(__file__).resolve().parent / "pool_baseline.py"
GOAL = 1.8


def main() -> int:
    quick = "--quick" in sys.argv
    repeat = 1 if quick else 5
    print(f"cores: {len(os.sched_getaffinity(0))}; {repeat} alternating run(s) per side")
    below = 0
    for title, name, case, args in CASES:
        main_py = compile_example(name)
        sequential, compiled, pool = Samples(), Samples(), Samples()
        for _ in range(repeat):
            seconds, expected = timed_run(EXAMPLES / name, *args)
            sequential.add(seconds)
            seconds, got = timed_run(main_py, *args)
            compiled.add(seconds)
            seconds, pooled = timed_run(POOL, case, str(main_py.parent), *args)
            pool.add(seconds)
            if got != expected or pooled != expected:
                print(f"{title}: OUTPUT DIFFERS")
                return 1
        ratio = sequential.median / compiled.median
        pool_ratio = sequential.median / pool.median
        below += ratio < GOAL
        print(
            f"{title}:\n  sequential {sequential}\n  compiled   {compiled}\n"
            f"  multiprocessing.Pool(2).map, hand-written: {pool}\n"
            f"  speed-up of the medians {ratio:.2f}x (goal {GOAL}x) "
            f"{'ok' if ratio >= GOAL else 'BELOW GOAL'}; Pool {pool_ratio:.2f}x; "
            f"compiled slowest / median {compiled.slowest / compiled.median:.2f}x"
        )
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
