"""Speed-up of compiled programs (local target) over the sequential reference, in one run.

Run: .venv/bin/python benchmarks/speedup.py [--quick]
Goal (issue 2): at least 1.8x on 2 cores for 300,000 tiny items and for 16 heavy items.
Each case runs sequential and compiled alternately, REPEAT times; the best of each is kept, so
a noisy neighbour on a shared machine hurts both sides alike.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from common import EXAMPLES, compile_example, timed_run

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
    print(f"cores: {len(os.sched_getaffinity(0))}; best of {repeat} run(s) per side")
    below = 0
    for title, name, case, args in CASES:
        main_py = compile_example(name)
        sequential = compiled = pool = float("inf")
        for _ in range(repeat):
            seconds, expected = timed_run(EXAMPLES / name, *args)
            sequential = min(sequential, seconds)
            seconds, got = timed_run(main_py, *args)
            compiled = min(compiled, seconds)
            seconds, pooled = timed_run(POOL, case, str(main_py.parent), *args)
            pool = min(pool, seconds)
            if got != expected or pooled != expected:
                print(f"{title}: OUTPUT DIFFERS")
                return 1
        ratio = sequential / compiled
        below += ratio < GOAL
        print(
            f"{title}: sequential {sequential:.2f} s, compiled {compiled:.2f} s, "
            f"speed-up {ratio:.2f}x (goal {GOAL}x) {'ok' if ratio >= GOAL else 'BELOW GOAL'}; "
            f"hand-tuned multiprocessing.Pool in the same run: {sequential / pool:.2f}x"
        )
    return 1 if below else 0


if __name__ == "__main__":
    raise SystemExit(main())
