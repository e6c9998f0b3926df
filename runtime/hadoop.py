"""The hadoop engine: runs a region as Hadoop Streaming jobs of Mapper.py and Reducer.py.

A region becomes a job (``hadoop_job``): its items in input splits, its kernel and replicated
arguments in job.txt, run by a Hadoop installation (HADOOP_HOME, or hadoop_home /
streaming_jar in the deployment model) or, without one, by a local streaming runner that
keeps Hadoop Streaming's contract. Without an installation, a region runs its first items
in Main.py, measured, and becomes a job only once a job would win (``placement``: the local
engine's rule, a job's start-up measured as its cost); a small region in a loop never starts
processes, nor imports what a job needs. The model's ``[hadoop] placement = "workers"``
makes every region a job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .placement import Costs, record_timing, running_in_place, start_in_place
from .semantics import (
    PrimitiveUsageError,
    RegionRecord,
    region_items,
    run_region,
    worker_count,
)
from .travel import by_value_where_needed, job_payload

__all__ = ["PrimitiveUsageError", "Region", "run_region"]

IN_TASK = "TOREADOR_IN_TASK"  # set in mapper and reducer processes: nested regions run in place
# What a job of the local streaming runner costs beyond its items' work, until this
# program's first job measures it: its mapper and reducer processes start (an interpreter,
# the runtime and the program imported in each), the sort, the files (0.15-0.2 s here for
# a job of 30 tiny items). A region whose work cannot pay for that runs in Main.py.
RUNNER_START_SECONDS = 0.15
_RUNNER_START = [RUNNER_START_SECONDS]
_CHECKED: set[str] = set()  # regions whose kernel and arguments were found sendable


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run as Hadoop Streaming jobs, with the Hadoop settings of the model."""

    reducers: int = 2
    python: str = "python3"
    hadoop_home: str = ""
    streaming_jar: str = ""
    input: str = "toreador-input"
    output: str = "toreador-output"
    shared_module: str = ""

    # "auto": without an installation, in Main.py when a job cannot win; "workers": a job
    placement: str = "auto"

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        data, kernel, repl = region_items(self.primitive, data, kernel, repl)
        if os.environ.get(IN_TASK) or running_in_place():
            return [kernel(item, *repl) for item in data]
        # TOREADOR_KEEP asks for the jobs' folders (for run_hadoop.sh): every region a job
        keep = os.environ.get("TOREADOR_KEEP")
        if self.placement == "auto" and not keep and hadoop_command(self) is None:
            return self._run_where_it_pays(data, kernel, repl)
        return _job(self, kernel, repl, data, 0)

    def _run_where_it_pays(
        self, data: Iterable[Any], kernel: Any, repl: tuple[Any, ...]
    ) -> list[Any]:
        """The local streaming runner starts processes for every job: the first items run
        here, measured, and the rest becomes a job only once it would win (the local
        engine's rule, ``placement``, with a job's measured start-up as the cost)."""
        if self.label not in _CHECKED:
            # a kernel that a job could not be sent is refused here too, on the first call:
            # the program must not run without Hadoop and fail with it
            job = (kernel, repl, self.label)
            job_payload(
                self.label, self.kernel, job, "Hadoop tasks", by_value_where_needed
            )
            _CHECKED.add(self.label)
        mappers = worker_count(self.workers)

        def costs(item: Any, value: Any) -> Costs:
            return Costs(_RUNNER_START[0], mappers)

        started = start_in_place(self, data, kernel, repl, costs)
        if started.rest is None:
            record_timing(self.label, "in-place")
            return started.values
        record_timing(self.label, f"job-after-{started.offset}")
        return started.values + _job(self, kernel, repl, started.rest, started.offset)


def hadoop_command(region: Region) -> tuple[str, str] | None:
    """(hadoop launcher, streaming jar) when an installation is named, else None."""
    home = region.hadoop_home or os.environ.get("HADOOP_HOME", "")
    jar = region.streaming_jar or os.environ.get("HADOOP_STREAMING_JAR", "")
    if not home:
        return None
    launcher = str(Path(home) / "bin" / "hadoop")
    if not jar:
        tools = Path(home) / "share" / "hadoop" / "tools" / "lib"
        found = sorted(tools.glob("hadoop-streaming-*.jar"))
        jar = str(found[-1]) if found else ""
    return (launcher, jar) if jar else None


def _job(
    region: Region, kernel: Any, repl: tuple[Any, ...], data: Iterable[Any], offset: int
) -> list[Any]:
    """The items of ``data`` from ``offset`` on, as streaming jobs (the job's side imported
    only now: a program whose regions all run here never loads it)."""
    from .hadoop_job import StreamingJob

    values: list[Any] = StreamingJob(region, kernel, repl, data, offset).run()
    return values
