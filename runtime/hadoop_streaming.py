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

from .outcomes import map_items, pickled_outcome, run_batch
from .output import OutputRecorder
from .travel import load_with_argv

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
    payload = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
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
    with open(job_path, encoding="ascii") as handle:
        # the main program's sys.argv is set before the kernel's module is imported
        kernel, repl, _label = load_with_argv(base64.b64decode(handle.read().strip()))
    channel, recorder = sys.stdout, OutputRecorder()
    for key, value in read_records(sys.stdin):
        items = decode(value)
        try:
            outcome = run_batch(int(key), map_items, kernel, repl, items, recorder)
        finally:
            sys.stdout = channel
        answer = base64.b64encode(pickled_outcome(outcome, items)).decode("ascii")
        channel.write(f"{key}\t{answer}\n")


def run_locally(
    folder: Path, mappers: int, reducers: int, python: str, programs: Path
) -> Iterator[str]:
    """Hadoop Streaming's contract on this machine: mapper processes over the splits in
    parallel, their output sorted by key and partitioned to reducer processes by a hash of
    the key, reducers in parallel; returns the reducers' output lines."""
    splits = sorted((folder / "input").iterdir())
    env = dict(os.environ, TOREADOR_JOB=str(folder / "job.txt"))
    mapper = [python, str(programs / "Mapper.py")]
    mapped = _run_parallel([mapper] * len(splits), splits, mappers, env, folder, "map")
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
    reduced = _run_parallel(
        [reducer] * len(partitions), partitions, reducers, env, folder, "part-r"
    )
    return heapq.merge(
        *(_lines(path) for path in reduced), key=lambda line: line.partition("\t")[0]
    )


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="ascii") as handle:
        yield from handle


Running = tuple[subprocess.Popen[bytes], Any, Any, list[str]]


def _run_parallel(
    commands: list[list[str]],
    inputs: list[Path],
    limit: int,
    env: dict[str, str],
    folder: Path,
    stem: str,
) -> list[Path]:
    """Run each command on its input file, at most ``limit`` at a time; their output files."""
    outputs = [folder / f"{stem}-{number:05d}.txt" for number in range(len(commands))]
    running: list[Running] = []
    pending = list(zip(commands, inputs, outputs, strict=True))

    def finish(entry: Running) -> None:
        process, stdin, stdout, command = entry
        code = process.wait()
        stdin.close()
        stdout.close()
        if code != 0:
            raise RuntimeError(
                f"streaming task {shlex.join(command)} failed with exit status {code}"
            )

    try:
        while pending or running:
            while pending and len(running) < limit:
                command, source, target = pending.pop(0)
                stdin, stdout = open(source, "rb"), open(target, "wb")  # noqa: SIM115
                process = subprocess.Popen(command, stdin=stdin, stdout=stdout, env=env)
                running.append((process, stdin, stdout, command))
            finish(running.pop(0))
    finally:
        for process, *_ in running:
            process.kill()
    return outputs
