"""Peak memory of a compiled run against the sequential run (one run each).

Run: .venv/bin/python benchmarks/memory.py
Goal (issue 2): compiled peak <= 1.5 x sequential peak + the workers' interpreters, where an
interpreter is measured as the peak of a bare `python -c` on this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import EXAMPLES, compile_example, peak_memory

CASES = [("many_tiny.py", ["300000"]), ("few_heavy.py", ["16", "200000"])]
MB = 1024 * 1024


def interpreter_peak() -> int:
    script = Path(tempfile.mkdtemp()) / "idle.py"
    script.write_text("import time\ntime.sleep(0.3)\n")
    peak, _ = peak_memory(script)
    return peak


def main() -> int:
    workers = len(os.sched_getaffinity(0))
    bare = interpreter_peak()
    print(f"bare interpreter: {bare / MB:.1f} MB; workers: {workers}")
    failed = 0
    for name, args in CASES:
        sequential, expected = peak_memory(EXAMPLES / name, *args)
        compiled, got = peak_memory(compile_example(name), *args)
        if got != expected:
            print(f"{name}: OUTPUT DIFFERS")
            return 1
        budget = 1.5 * sequential + workers * bare
        ok = compiled <= budget
        failed += not ok
        print(
            f"{name} {' '.join(args)}: sequential {sequential / MB:.1f} MB, compiled "
            f"{compiled / MB:.1f} MB, budget {budget / MB:.1f} MB "
            f"(ratio to sequential {compiled / sequential:.2f}) {'ok' if ok else 'OVER BUDGET'}"
        )
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
