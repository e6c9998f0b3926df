"""Helpers for the benchmark scripts: compile an example, time a run, sample memory."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import load_model
from toreador.compiler.source import read_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
ENV = dict(os.environ, TOREADOR_PROGRESS="0")


@dataclass
class Samples:
    """Times of repeated runs of one side. Reported as the median and the slowest: the best of
    N hides a stall that users meet on every other run, the slowest shows it."""

    seconds: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.seconds.append(seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def slowest(self) -> float:
        return max(self.seconds)

    def __str__(self) -> str:
        return f"median {self.median:.2f} s, slowest {self.slowest:.2f} s"


def compile_example(name: str, pattern: str = "auto") -> Path:
    """Compile examples/NAME (or any path) for the local target; the path of its Main.py."""
    out = Path(tempfile.mkdtemp(prefix="toreador-bench-")) / "out"
    compiled = compile_source(read_source(EXAMPLES / name), pattern, "local", load_model(None))
    write_output(compiled, out)
    return out / "Main.py"


def timed_run(script: Path, *args: str) -> tuple[float, str]:
    """Wall time of one run and its stdout; a failing run stops the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=ENV, check=True
    )
    return time.perf_counter() - started, done.stdout


def peak_memory(script: Path, *args: str) -> tuple[int, str]:
    """Peak over time of the process tree's memory: RSS of the main process plus the unique
    memory (USS) of each child, so pages a forked worker shares are not counted twice."""
    process = subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, env=ENV
    )
    peak = 0
    watched = psutil.Process(process.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                total = watched.memory_info().rss
                for child in watched.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                        total += child.memory_full_info().uss
                peak = max(peak, total)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, _ = process.communicate()
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{script} failed with exit status {process.returncode}")
    return peak, stdout


def run_together(target: Callable[[int], None], count: int) -> float:
    """``count`` threads, each running ``target(n)``, started together; the seconds until the
    last one ends (the load tests' simulated clients)."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def latency_summary(latencies: list[float]) -> tuple[str, float]:
    """ "median M ms, p95 P ms, slowest S ms" and the p95 in seconds (NaN if none)."""
    ordered = sorted(latencies)
    if not ordered:
        return "no requests", float("nan")
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    median = statistics.median(ordered)
    return (
        f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"slowest {ordered[-1] * 1000:.0f} ms"
    ), p95
