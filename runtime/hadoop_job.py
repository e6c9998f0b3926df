"""A region as Hadoop Streaming jobs of Mapper.py and Reducer.py (Main.py's side).

Main.py writes the items into input splits in the line protocol (``hadoop_streaming``), the
kernel and the replicated arguments into job.txt, then runs the job:
- with a Hadoop installation (HADOOP_HOME, or hadoop_home / streaming_jar in the deployment
  model): `hadoop jar <streaming jar> -files ... -input ... -output ... -mapper ... -reducer
  ... -D mapreduce.job.reduces=N`, the command run_hadoop.sh also holds for operators;
- without one: a local streaming runner that keeps Hadoop Streaming's contract (split input,
  parallel mapper processes, sort by key, partition to reducers, parallel reducers), and says
  so on stderr, once.
A list is one job; any other iterable runs as jobs over rounds of growing splits, so an
endless producer never fills the disk before a mapper runs. The reducers' output is read back
in key order and replayed as every engine replays outcomes (``outcomes.replay_outcome``).
"""

from __future__ import annotations

import base64
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import hadoop_streaming as streaming
from .hadoop import _RUNNER_START, Region, hadoop_command
from .outcomes import replay_outcome
from .output import ProducerFeed
from .placement import remembered_cost
from .process_state import module_folders
from .semantics import SEQUENCE_TYPES, is_list_like, worker_count
from .travel import by_value_where_needed, job_payload, unsendable

HERE = Path(__file__).resolve().parent.parent  # the generated folder
STREAMING_PROGRAMS = ("Mapper.py", "Reducer.py")
# The runtime and the program's own modules and packages, shipped to the tasks as one
# archive that Mapper.py puts on sys.path: -files ships files, not folders.
PROGRAM_ARCHIVE = "program_modules.zip"
# A streamed region (a generator) runs as jobs over rounds of input splits, a split of this
# many items at first, twice as many each round up to the last.
STREAM_FIRST_SPLIT = 1_000
STREAM_LAST_SPLIT = 50_000
_SAID_LOCAL_RUNNER = [False]  # the local streaming runner is named once per run


def program_archive(path: Path, shipped: set[str]) -> Path:
    """Zip the runtime and the program's own modules and folders of modules (all but the
    files shipped on their own)."""
    modules = [p for p in sorted(HERE.glob("*.py")) if p.name not in shipped]
    packages = module_folders(HERE)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for module in modules:
            archive.write(module, module.name)
        for package in packages:
            for file in sorted(package.rglob("*.py")):
                archive.write(file, str(file.relative_to(HERE)))
    return path


class StreamingJob:
    def __init__(
        self,
        region: Region,
        kernel: Any,
        repl: tuple[Any, ...],
        data: Iterable[Any],
        offset: int = 0,
    ) -> None:
        """``offset``: the items before it ran in Main.py (of a list, the job takes the
        rest; an iterator's next item is item ``offset``)."""
        self.region, self.kernel, self.repl = region, kernel, repl
        self.mappers = worker_count(region.workers)
        # a list, tuple or range: one job, a split per mapper; anything else is streamed
        # as jobs over growing rounds, so memory and disk stay bounded
        self.size: int | None = None
        source = iter(data)
        if is_list_like(data):
            self.size = len(data) - offset  # type: ignore[arg-type]
            source = itertools.islice(source, offset, None)
        self.feed = ProducerFeed(source, not isinstance(data, SEQUENCE_TYPES))
        self.feed.next_index = offset
        self.installation = hadoop_command(region)
        self.folder = Path(tempfile.mkdtemp(prefix="toreador-hadoop-"))

    def run(self) -> list[Any]:
        installation = self.installation
        try:
            self._write_job()
            if self.size is not None:
                per_split = max(1, -(-self.size // self.mappers))
            else:
                per_split = STREAM_FIRST_SPLIT
            if installation is None and not _SAID_LOCAL_RUNNER[0]:
                _SAID_LOCAL_RUNNER[0] = True
                sys.stderr.write(
                    f"toreador: {self.region.label}: no Hadoop installation named "
                    "(HADOOP_HOME or the deployment model's [hadoop]); running Mapper.py and "
                    "Reducer.py with the local streaming runner\n"
                )
            results: list[Any] = []
            while not self.feed.exhausted:
                start = self.feed.next_index
                count = self._write_splits(per_split, self.mappers * per_split) - start
                if count == 0:
                    break
                began = time.perf_counter()
                if installation is None:
                    # Tasks on this machine run with this interpreter (and its packages);
                    # the model's `python` is for the cluster's nodes.
                    lines = streaming.run_locally(
                        self.folder,
                        self.mappers,
                        self.region.reducers,
                        sys.executable,
                        HERE,
                        self.region,
                    )
                else:
                    lines = self._run_on_hadoop(*installation)
                self._collect(lines, start, count, results)
                if installation is None:
                    self._measure(time.perf_counter() - began, count)
                per_split = min(per_split * 2, STREAM_LAST_SPLIT)
                if not self.feed.exhausted:
                    self._clear_round()
            self.feed.finish()  # what the producer printed last, or its failure
            return results
        finally:
            if os.environ.get("TOREADOR_KEEP"):
                sys.stderr.write(
                    f"toreador: {self.region.label}: job folder kept in {self.folder} "
                    "(for run_hadoop.sh)\n"
                )
            else:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _measure(self, seconds: float, count: int) -> None:
        """A local job's start-up, for the next regions' choice: its time less its items'
        share of work at the cost per item measured in place (none measured: the whole
        job, an upper bound, which keeps a region of unknown cost in place no longer than
        a job would have taken)."""
        per_item = remembered_cost(self.region.label) or 0.0
        start = max(0.01, seconds - count * per_item / self.mappers)
        _RUNNER_START[0] = (_RUNNER_START[0] + start) / 2

    def _clear_round(self) -> None:
        """Between the rounds of a streamed region: all but the job and the modules go."""
        for path in self.folder.iterdir():
            if path.name in ("job.txt", PROGRAM_ARCHIVE):
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()

    def _write_job(self) -> None:
        job = (self.kernel, self.repl, self.region.label)
        region = self.region
        payload = job_payload(
            region.label, region.kernel, job, "Hadoop tasks", by_value_where_needed
        )
        encoded = base64.b64encode(payload).decode("ascii")
        (self.folder / "job.txt").write_text(encoded + "\n", encoding="ascii")
        if self.installation is not None or os.environ.get("TOREADOR_KEEP"):
            # for Hadoop's -files (the local runner's tasks import from the folder itself)
            shipped = {*STREAMING_PROGRAMS, "Main.py", f"{region.shared_module}.py"}
            program_archive(self.folder / PROGRAM_ARCHIVE, shipped)

    def _write_splits(self, per_split: int, limit: int) -> int:
        """The next items of the feed (at most ``limit``) into input splits of ``per_split``
        items, as batched records; a batch never crosses a split's end. Returns the position
        after the last item written."""
        inputs = self.folder / "input"
        inputs.mkdir()
        batch_items = max(1, min(streaming.BATCH_ITEMS, per_split))
        feed, start = self.feed, self.feed.next_index
        handle = None
        try:
            while not feed.exhausted and feed.next_index - start < limit:
                first = feed.next_index
                written = first - start
                wanted = min(
                    batch_items, per_split - written % per_split, limit - written
                )
                batch = list(feed.pull(wanted))
                if not batch:
                    break
                if written % per_split == 0:
                    if handle is not None:
                        handle.close()
                    name = f"split-{written // per_split:05d}.txt"
                    handle = open(inputs / name, "w", encoding="ascii")  # noqa: SIM115
                try:
                    lines = list(streaming.batch_records(first, batch))
                except Exception as error:
                    label = self.region.label
                    raise unsendable(
                        label, batch, first, error, "a Hadoop task"
                    ) from error
                handle.writelines(lines)  # type: ignore[union-attr]
        finally:
            if handle is not None:
                handle.close()
        return feed.next_index

    def _run_on_hadoop(self, launcher: str, jar: str) -> Iterator[str]:
        region = self.region
        shipped = [*STREAMING_PROGRAMS, f"{region.shared_module}.py"]
        files = [str(HERE / name) for name in shipped]
        files += [str(self.folder / "job.txt"), str(self.folder / PROGRAM_ARCHIVE)]
        commands = [
            [launcher, "fs", "-rm", "-r", "-f", region.input, region.output],
            [launcher, "fs", "-put", str(self.folder / "input"), region.input],
            [launcher, "jar", jar, "-D", f"mapreduce.job.reduces={region.reducers}",
             "-D", f"mapreduce.map.maxattempts={region.max_attempts}",
             "-D", f"mapreduce.reduce.maxattempts={region.max_attempts}",
             "-files", ",".join(files), "-input", region.input, "-output", region.output,
             "-mapper", f"{region.python} Mapper.py", "-reducer", f"{region.python} Reducer.py"],
        ]  # fmt: skip
        for command in commands:
            sys.stderr.write("toreador: " + shlex.join(command) + "\n")
            subprocess.run(command, check=True, stdout=sys.stderr)
        cat = subprocess.run(
            [launcher, "fs", "-cat", f"{region.output}/part-*"],
            check=True,
            capture_output=True,
            text=True,
        )
        # each part file is sorted; partitions interleave: sort the records by key
        lines = cat.stdout.splitlines()
        return iter(sorted(lines, key=lambda line: line.partition("\t")[0]))

    def _collect(
        self, lines: Iterable[str], start: int, count: int, results: list[Any]
    ) -> None:
        """Replay a job's outcomes (items ``start`` to ``start + count``) in key order; an
        item lost or doubled on the way fails the run."""
        first_result = len(results)
        for key, value in streaming.read_records(lines):
            first, due = int(key), start + len(results) - first_result
            if first != due:
                raise RuntimeError(
                    f"{self.region.label}: the job returned item {first} where item {due} "
                    "was due: an item was lost or duplicated"
                )
            outcome = streaming.decode(value)
            replay_outcome(self.region, outcome, first, results, list.extend, self.feed)
        if len(results) - first_result != count:
            returned = len(results) - first_result
            raise RuntimeError(
                f"{self.region.label}: the job returned {returned} of {count} items"
            )
