"""Hadoop Streaming's side of the hadoop engine: the line protocol between Main.py, Mapper.py
and Reducer.py, the mapper's loop, and a local runner that keeps Streaming's contract.

Every record is one line: ``key<TAB>value``. The key is the position of the record's first
item, zero-padded so that sorting keys as text sorts records in input order; the value is a
pickled batch of consecutive items in base64, which holds no tab and no newline whatever the
items are. A mapper's value is the outcome of its batch (``outcomes.Done`` or ``Failed``).
"""

from __future__ import annotations

import base64
import heapq
import os
import pickle
import shlex
import subprocess
import sys
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .outcomes import (
    Outcome,
    WorkerLostError,
    death_cause,
    map_items,
    not_started,
    pickled_outcome,
    run_batch,
)
from .output import OutputRecorder
from .semantics import RegionRecord
from .travel import by_value_where_needed, load_in_process

KEY_DIGITS = 12
BATCH_ITEMS = 512
MAX_RECORD_BYTES = 4 * 1024 * 1024


def key_of(position: int) -> str:
    return f"{position:0{KEY_DIGITS}d}"


def encode(value: Any) -> str:
    return base64.b64encode(
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    ).decode("ascii")


def decode(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))


def record(position: int, value: Any) -> str:
    """One line, newline included."""
    return f"{key_of(position)}\t{encode(value)}\n"


def batch_records(first: int, items: list[Any]) -> Iterator[str]:
    """Lines for consecutive items starting at position ``first``; a batch whose pickle is
    too large is halved until it fits (a single item always makes a record)."""
    payload = by_value_where_needed(items)
    if len(payload) > MAX_RECORD_BYTES and len(items) > 1:
        middle = len(items) // 2
        yield from batch_records(first, items[:middle])
        yield from batch_records(first + middle, items[middle:])
        return
    yield f"{key_of(first)}\t{base64.b64encode(payload).decode('ascii')}\n"


def read_records(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(key, encoded value) for every non-empty line; the tab splits at the first tab only."""
    for line in lines:
        line = line.rstrip("\r\n")
        if line:
            key, _, value = line.partition("\t")
            yield key, value


def run_mapper(job_path: str) -> None:
    """The mapper's loop (Mapper.py): for each ``key<TAB>batch`` line on stdin, the outcome
    of the kernel over the batch as ``key<TAB>outcome`` on stdout. stdout is the protocol's
    channel, so what the kernel prints is recorded and travels in the outcome."""
    channel, recorder = sys.stdout, OutputRecorder()
    try:
        with open(job_path, encoding="ascii") as handle:
            # the main program's process state (sys.argv, environment, ...) is set around
            # the import of the kernel's module
            job = load_in_process(base64.b64decode(handle.read().strip()))
        kernel, repl, _label = job
    except Exception as error:  # every batch says why: no attempt would do better
        problem: Exception | None = error
    else:
        problem = None
    for key, value in read_records(sys.stdin):
        items: list[Any] = []
        try:
            if problem is not None:
                raise problem
            items = decode(value)
        except Exception as error:
            outcome: Outcome = not_started(
                int(key), len(items), "the Hadoop task", error
            )
        else:
            try:
                outcome = run_batch(int(key), map_items, kernel, repl, items, recorder)
            finally:
                sys.stdout = channel
        answer = base64.b64encode(pickled_outcome(outcome, items)).decode("ascii")
        channel.write(f"{key}\t{answer}\n")


def run_locally(
    folder: Path,
    mappers: int,
    reducers: int,
    python: str,
    programs: Path,
    region: RegionRecord,
) -> Iterator[str]:
    """Hadoop Streaming's contract on this machine: mapper processes over the splits in
    parallel, their output sorted by key and partitioned to reducer processes by a hash of
    the key, reducers in parallel; returns the reducers' output lines. A task whose process
    dies (a kernel's exception is a record, not a death) is run again, as Hadoop re-runs a
    task attempt, up to the region's ``max_attempts``."""
    splits = sorted((folder / "input").iterdir())
    env = dict(os.environ, TOREADOR_JOB=str(folder / "job.txt"))
    mapper = [python, str(programs / "Mapper.py")]
    tasks = _Tasks(region, env, folder)
    mapped = tasks.run_all([mapper] * len(splits), splits, mappers, "map")
    lines: list[str] = []
    for path in mapped:
        with open(path, encoding="ascii") as handle:
            lines.extend(handle)
    lines.sort(key=lambda line: line.partition("\t")[0])  # the shuffle's sort by key
    partitions = [folder / f"partition-{number:05d}.txt" for number in range(reducers)]
    handles = [open(path, "w", encoding="ascii") for path in partitions]  # noqa: SIM115
    try:
        for line in lines:
            key = line.partition("\t")[0]
            handles[zlib.crc32(key.encode()) % reducers].write(line)
    finally:
        for handle in handles:
            handle.close()
    del lines
    reducer = [python, str(programs / "Reducer.py")]
    reduced = tasks.run_all([reducer] * len(partitions), partitions, reducers, "part-r")
    return heapq.merge(
        *(_lines(path) for path in reduced), key=lambda line: line.partition("\t")[0]
    )


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="ascii") as handle:
        yield from handle


class _Tasks:
    """Streaming tasks run as processes, each on its input file, a few at a time; a task
    whose process dies is started again on the same input, a fresh output."""

    def __init__(self, region: RegionRecord, env: dict[str, str], folder: Path) -> None:
        self.region, self.env, self.folder = region, env, folder

    def run_all(
        self, commands: list[list[str]], inputs: list[Path], limit: int, stem: str
    ) -> list[Path]:
        """Run each command on its input, at most ``limit`` at a time; the output files."""
        outputs = [self.folder / f"{stem}-{n:05d}.txt" for n in range(len(commands))]
        pending = list(range(len(commands)))
        running: list[tuple[int, subprocess.Popen[bytes]]] = []
        causes: dict[int, list[str]] = {}
        try:
            while pending or running:
                while pending and len(running) < limit:
                    task = pending.pop(0)
                    with (
                        open(inputs[task], "rb") as stdin,
                        open(outputs[task], "wb") as out,
                    ):
                        process = subprocess.Popen(
                            commands[task], stdin=stdin, stdout=out, env=self.env
                        )
                    running.append((task, process))
                task, process = running.pop(0)
                code = process.wait()
                if code == 0:
                    continue
                causes.setdefault(task, []).append(death_cause(code))
                if len(causes[task]) >= max(1, self.region.max_attempts):
                    raise WorkerLostError(
                        self._gave_up(commands[task], inputs[task], causes[task])
                    )
                pending.insert(0, task)
        finally:
            for _, process in running:
                process.kill()
                process.wait()
        return outputs

    def _gave_up(self, command: list[str], source: Path, causes: list[str]) -> str:
        each = "; ".join(f"attempt {i}: {cause}" for i, cause in enumerate(causes, 1))
        with open(source, encoding="ascii") as lines:
            first = lines.readline().partition("\t")[0].lstrip("0") or "0"
        return (
            f"{self.region.label}: the streaming task {shlex.join(command)} over "
            f"{source.name} (items from {first}, kernel {self.region.kernel}) lost its "
            f"process {len(causes)} "
            f"time(s), the limit being max_attempts = {self.region.max_attempts} (the "
            f"deployment model's key): {each}"
        )
