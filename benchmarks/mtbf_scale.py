"""The MTBF flagship at an energy company's scale, on a data set partitioned by gateway.

Run: .venv/bin/python benchmarks/mtbf_scale.py [--homes 100] [--days 365] [--data FOLDER]
                                                [--repeat 3] [--skip-flagship]

Goals (issue 16), on 2 cores:
- `generate` streams home by home: its peak memory stays under 1 GB at any size;
- `analyse` reads and analyses at least 20 million readings/s on one core;
- the compiled flagship (local target), whose workers each read their own gateway's folder,
  is at least 1.8x its sequential run end to end (median of alternating runs; the slowest
  is reported too), beside what two cores give two sequential runs at once (the ceiling of
  any parallel runtime on this machine);
- no process's memory grows with the data set: each is bounded by about one gateway's year.

``--data FOLDER`` reuses a data set made earlier (generated there if it is missing).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ENV, ROOT, Samples, compile_example

GOAL_READINGS_PER_SECOND = 20_000_000
GOAL_SPEEDUP = 1.8
GOAL_GENERATE_BYTES = 1 << 30
PYTHON = sys.executable


def run_watched(command: list[str], cpus: set[int] | None = None) -> tuple[float, int, str]:
    """Wall time, the largest resident size any one process of the tree reached, and stdout;
    a failing run stops the benchmark. The size is the kernel's own count (``wait4``: the
    child's peak, or a descendant's it reaped), so nothing samples the run while it is timed:
    a sampling thread takes CPU from the two cores the compiled run uses."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    assert process.stdout is not None
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit status {process.returncode}")
    return seconds, usage.ru_maxrss * 1024, stdout


def megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def generate(data: Path, homes: int, days: int) -> None:
    if data.exists():
        print(f"data set: {data} (made earlier), {megabytes(folder_size(data))} on disk")
        return
    command = [PYTHON, "-m", "mtbf_example", "generate", str(data), "--homes", str(homes)]
    seconds, peak, _ = run_watched([*command, "--days", str(days), "--seed", "2016"])
    print(
        f"generate {homes} homes x {days} days ({homes * days * 1440:,} readings): "
        f"{seconds:.1f} s, peak memory {megabytes(peak)} "
        f"({'ok' if peak < GOAL_GENERATE_BYTES else 'OVER'} the 1 GB goal), "
        f"{megabytes(folder_size(data))} on disk"
    )


def analyse_speed(data: Path, readings: int, repeat: int) -> bool:
    """`analyse` in a process pinned to one core: the whole command, and the analysis alone
    (reading included, the interpreter's start and imports not)."""
    core = {min(os.sched_getaffinity(0))}
    inner = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from mtbf_example.pipeline import results_for\n"
        "started = time.perf_counter()\n"
        "results, _ = results_for(Path(sys.argv[1]), None, None, None, None)\n"
        "print(time.perf_counter() - started)\n"
    )
    whole, alone, largest = Samples(), Samples(), 0
    for _ in range(repeat):
        seconds, size, _ = run_watched([PYTHON, "-m", "mtbf_example", "analyse", str(data)], core)
        whole.add(seconds)
        largest = max(largest, size)
        _, _, stdout = run_watched([PYTHON, "-c", inner, str(data)], core)
        alone.add(float(stdout))
    speed = readings / alone.median
    print(
        f"analyse on one core: the command {whole}; reading + analysis {alone}: "
        f"{speed / 1e6:.1f} M readings/s at the median, {readings / alone.slowest / 1e6:.1f} M "
        f"at the slowest (goal {GOAL_READINGS_PER_SECOND / 1e6:.0f} M) "
        f"{'ok' if speed >= GOAL_READINGS_PER_SECOND else 'BELOW GOAL'}; "
        f"largest process {megabytes(largest)}"
    )
    return speed >= GOAL_READINGS_PER_SECOND


def machine_ceiling(data: Path, repeat: int) -> None:
    """What two cores give this work with no parallel runtime at all: the sequential flagship
    alone on one core, and two copies at once, one per core (alternating). Two copies slow
    each other (shared cache and memory bus): a parallel run cannot beat that."""
    cores = sorted(os.sched_getaffinity(0))[:2]
    if len(cores) < 2:
        return
    command = [PYTHON, str(ROOT / "mtbf_example" / "mtbf.py"), str(data)]
    alone, paired = Samples(), Samples()
    for _ in range(repeat):
        alone.add(run_watched(command, {cores[0]})[0])
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda core: run_watched(command, {core}), cores))
        paired.add(time.perf_counter() - started)
    print(
        f"the machine: the sequential flagship alone on one core {alone}; two at once, one per "
        f"core {paired}: together they take {paired.median / alone.median - 1:+.0%} at the "
        f"median, so two cores do {2 * alone.median / paired.median:.2f}x one core's work"
    )


def flagship(data: Path, repeat: int) -> bool:
    """Sequential, compiled and a hand-written Pool (the machine's ceiling for the same
    per-gateway work), alternating; the same report every time."""
    source = ROOT / "mtbf_example" / "mtbf.py"
    sides = {
        "sequential": source,
        "compiled": compile_example(str(source)),
        "hand-written Pool": ROOT / "benchmarks" / "handwritten" / "mtbf_pool.py",
    }
    samples = {side: Samples() for side in sides}
    largest = dict.fromkeys(sides, 0)
    expected = None
    for _ in range(repeat):
        for side, script in sides.items():
            seconds, size, stdout = run_watched([PYTHON, str(script), str(data)])
            if expected is None:
                expected = stdout
            elif stdout != expected:
                print(f"flagship, {side}: THE REPORT DIFFERS")
                return False
            samples[side].add(seconds)
            largest[side] = max(largest[side], size)
    sequential, compiled, pool = samples.values()
    ratio = sequential.median / compiled.median
    print(
        f"flagship, {repeat} alternating runs: sequential {sequential}; compiled (local, "
        f"{len(os.sched_getaffinity(0))} cores) {compiled}; hand-written Pool {pool}"
    )
    print(
        f"  compiled over sequential: {ratio:.2f}x at the median, "
        f"{sequential.slowest / compiled.slowest:.2f}x slowest to slowest (goal {GOAL_SPEEDUP}x) "
        f"{'ok' if ratio >= GOAL_SPEEDUP else 'BELOW GOAL'}; the Pool: "
        f"{sequential.median / pool.median:.2f}x, {sequential.slowest / pool.slowest:.2f}x"
    )
    print(
        "  largest process: "
        + ", ".join(f"{side} {megabytes(size)}" for side, size in largest.items())
    )
    return ratio >= GOAL_SPEEDUP


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--data", type=Path, help="a data set folder to reuse (or make)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-flagship", action="store_true")
    options = parser.parse_args()
    data = options.data or Path(tempfile.mkdtemp(prefix="toreador-scale-")) / "homes"
    generate(data, options.homes, options.days)
    import pyarrow.parquet as pq

    files = sorted(data.glob("gateway=*/*.parquet"))
    readings = sum(pq.ParquetFile(file).metadata.num_rows for file in files)
    print(f"{len(files)} gateways, {readings:,} readings")
    good = analyse_speed(data, readings, options.repeat)
    if not options.skip_flagship:
        good = flagship(data, options.repeat) and good
        machine_ceiling(data, options.repeat)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
