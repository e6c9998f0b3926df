"""Streaming MTBF throughput: readings per second from the topics to the report, on 2 cores.

Run: .venv/bin/python benchmarks/stream_throughput.py [--homes 10] [--days 30] [--repeat 3]

A tansu broker on 127.0.0.1 (in memory); the data set published once, one message per reading
(`publish`, as fast as it goes); then, alternating, the sequential `mtbf_stream.py` and its
compiled local program read every topic from the start (a consumer group of their own each
run) and print the day lines and the report: the same output every time. Printed: the publish
rate, and for each side the median and slowest run and readings per second at the median.
Goal (issue 18): at least 100,000 readings/s end to end, compiled.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV, ROOT, Samples, compile_example

GOAL = 100_000
PYTHON = sys.executable


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from mtbf_example.broker import running_broker

    data = Path(tempfile.mkdtemp(prefix="toreador-stream-")) / "homes"
    generate = [PYTHON, "-m", "mtbf_example", "generate", str(data)]
    timed([*generate, "--homes", str(options.homes), "--days", str(options.days)])
    readings = options.homes * options.days * 1440
    stream = ROOT / "mtbf_example" / "mtbf_stream.py"
    sides = {"sequential": stream, "compiled (local)": compile_example(str(stream))}
    with running_broker() as broker:
        seconds, _ = timed([PYTHON, "-m", "mtbf_example", "publish", str(data), "--broker", broker])
        print(
            f"{options.homes} homes x {options.days} days: {readings:,} readings published in "
            f"{seconds:.1f} s ({readings / seconds:,.0f} readings/s)"
        )
        samples = {side: Samples() for side in sides}
        expected = None
        for run in range(options.repeat):
            for side, script in sides.items():
                group = f"bench-{run}-{side.split()[0]}"
                seconds, stdout = timed([PYTHON, str(script), "--broker", broker, "--group", group])
                if expected is None:
                    expected = stdout
                elif stdout != expected:
                    print(f"{side}: THE OUTPUT DIFFERS")
                    return 1
                samples[side].add(seconds)
    good = True
    for side, sample in samples.items():
        rate = readings / sample.median
        print(
            f"{side}: {sample}; {rate:,.0f} readings/s at the median, "
            f"{readings / sample.slowest:,.0f} at the slowest"
        )
        if side.startswith("compiled"):
            good = rate >= GOAL
            print(f"  goal {GOAL:,} readings/s compiled: {'ok' if good else 'BELOW GOAL'}")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
