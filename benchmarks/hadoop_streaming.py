"""The hadoop target: items per second through the line protocol in one mapper process, and
the local streaming runner's speed-up over the sequential program, in one run.

Run: .venv/bin/python benchmarks/hadoop_streaming.py
Goals (issue 4): at least 200,000 small items/s per mapper process; the local runner's
speed-up on the 300,000-item case is reported (Hadoop's own overheads are not measured here).
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV, EXAMPLES, timed_run

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import load_model
from toreador.compiler.source import read_source

ITEMS = 300_000
GOAL = 200_000


def compile_hadoop(name: str) -> Path:
    out = Path(tempfile.mkdtemp(prefix="toreador-hadoop-bench-")) / "out"
    compiled = compile_source(read_source(EXAMPLES / name), "auto", "hadoop", load_model(None))
    write_output(compiled, out)
    return out


def main() -> int:
    out = compile_hadoop("many_tiny.py")
    from toreador.runtime import hadoop_streaming as protocol
    from toreador.runtime.travel import dumps, with_argv

    folder = Path(tempfile.mkdtemp())
    job = base64.b64encode(with_argv(dumps((abs, (), "bench")))).decode("ascii")
    (folder / "job.txt").write_text(job + "\n")
    batch = protocol.BATCH_ITEMS
    (folder / "input.txt").write_text(
        "".join(
            line
            for first in range(0, ITEMS, batch)
            for line in protocol.batch_records(first, list(range(first, min(ITEMS, first + batch))))
        )
    )
    with open(folder / "input.txt", "rb") as stdin, open(folder / "output.txt", "wb") as stdout:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(out / "Mapper.py")],
            stdin=stdin,
            stdout=stdout,
            env=dict(ENV, TOREADOR_JOB=str(folder / "job.txt")),
            check=True,
        )
        seconds = time.perf_counter() - started
    speed = ITEMS / seconds
    print(
        f"one mapper process: {ITEMS:,} small items in {seconds:.2f} s = {speed:,.0f} items/s "
        f"(goal {GOAL:,}) {'ok' if speed >= GOAL else 'BELOW GOAL'}"
    )
    sequential, expected = timed_run(EXAMPLES / "many_tiny.py", str(ITEMS))
    compiled, got = timed_run(out / "Main.py", str(ITEMS))
    if got != expected:
        print("OUTPUT DIFFERS")
        return 1
    print(
        f"300,000 Collatz items: sequential {sequential:.2f} s, hadoop target with the local "
        f"streaming runner {compiled:.2f} s, speed-up {sequential / compiled:.2f}x"
    )
    return 0 if speed >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
