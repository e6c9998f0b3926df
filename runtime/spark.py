"""The spark engine: runs a parallel region as Spark jobs, in local mode or on a cluster.

Why it looks the way it does:
- One SparkSession per program, made at the first region from the deployment model (master,
  executors, cores, memory). Under spark-submit (run_spark.sh) the command line's settings
  rule; a session that already exists (a notebook, a test) is used as it is.
- The program's modules (the shared module, this runtime, the pattern steps, the program's
  own modules) reach the executors in one zip, so kernels travel by reference and an object
  of a program's class means the same on both sides.
- A list, tuple or range is one job whose partitions run the pattern's step in Spark tasks
  (a bag of tasks: one task per function and datum, a big bag shared out among fewer
  tasks). Any other iterable, and every producer_consumer region, is streamed: the producer
  is read a chunk at a time, each chunk a job whose tasks are the consumers, at most WINDOW
  chunks in flight (the driver loop of ``driver``).
- Each task answers with the outcome of its partition; a job's outcomes are combined in
  partition order and replayed in input order on the driver.
- Inside a task, a nested region runs on the task's own CPUs (spark.task.cpus) with the
  local engine, or in place when the task has one CPU.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import os
import pickle
import re
import shutil
import sys
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .driver import BatchSizer, Driver, MadeOnce, feed_for, list_pieces
from .local import run_nested
from .outcomes import (
    Outcome,
    WorkerLostError,
    combine,
    not_started,
    pattern_steps,
    pickled_outcome,
    run_batch,
)
from .output import OutputRecorder, SequenceFeed, keep_library_records
from .process_state import module_folders
from .semantics import (
    PrimitiveUsageError,
    RegionRecord,
    is_list_like,
    region_items,
    run_region,
)
from .travel import job_payload, load_in_process, unsendable

__all__ = ["PrimitiveUsageError", "Region", "SparkTaskError", "run_region"]

HERE = Path(__file__).resolve().parent.parent  # the generated folder
IN_TASK = (
    "TOREADOR_IN_TASK"  # set in Spark's Python workers: nested regions run in the task
)
# A list's partitions, as PySpark's default: every further task costs a small job about as
# much as it saves in balance (measured: 4 per core took 1.3x a hand-written job's time on
# 200,000 tiny items). Uneven items: a bag of tasks, or more workers in the model.
PARTITIONS_PER_CORE = 1
BAG_TASKS_PER_CORE = 64  # bag-of-tasks: one task per item, up to this many per core
STREAM_CHUNK_SECONDS = 0.5  # a streamed chunk's wanted length, from measured item cost
MAX_CHUNK_ITEMS = 100_000
MAX_CHUNK_BYTES = 32 * 1024 * 1024
WINDOW = 3  # streamed chunks queued or running at once


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run as Spark jobs, with the Spark settings of the deployment model."""

    master: str = "local[*]"
    executors: int = 2
    executor_cores: int = 1
    executor_memory: str = "1g"
    driver_memory: str = "1g"
    task_cpus: int = 1
    python: str = ""
    app_name: str = "toreador"

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        if os.environ.get(IN_TASK):
            return run_nested(self, data, kernel, repl, _task_cpus())
        items, kernel, repl = region_items(self.primitive, data, kernel, repl)
        if is_list_like(items) and len(items) == 0:  # type: ignore[arg-type]
            return []
        return _SparkRun(self, kernel, repl).start(items)


class SparkTaskError(RuntimeError):
    """A Spark job failed outside the kernel: a lost executor, a Python worker that died."""


def _restore_stderr() -> None:
    """spark-submit joins the driver program's stderr to its stdout; run_spark.sh names the
    submitter's own stderr (TOREADOR_STDERR), so that stdout stays the program's own."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        return
    path = os.environ.pop("TOREADOR_STDERR", "")
    if not path:
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND)
    except OSError:  # not reopenable (a socket): stderr stays joined to stdout
        return
    sys.stderr.flush()
    os.dup2(descriptor, 2)
    os.close(descriptor)


_restore_stderr()


def _task_cpus() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.cpus() if context is not None else 1


# -- the session ---------------------------------------------------------------------------
_SESSION: MadeOnce[Any] = MadeOnce()


def spark_session(region: Region) -> Any:
    """The program's SparkSession, made once, at the first region that runs."""
    return _SESSION.get(lambda: _make_session(region))


def session_settings(region: Region, master: str) -> dict[str, str]:
    """Spark settings from the deployment model, for a program started as `python Main.py`."""
    settings = {
        "spark.master": master,
        "spark.app.name": region.app_name,
        "spark.driver.memory": region.driver_memory,
        "spark.task.cpus": str(region.task_cpus),
        "spark.executor.memory": region.executor_memory,
        # a task whose Python worker dies runs again, as many times as the model allows
        "spark.task.maxFailures": str(region.max_attempts),
    }
    if master.startswith("local"):
        # everything runs on this machine: listen on loopback only, no web UI
        settings.update(
            {
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.host": "127.0.0.1",
                "spark.ui.enabled": "false",
            }
        )
    else:
        settings.update(
            {
                "spark.executor.instances": str(region.executors),
                "spark.executor.cores": str(region.executor_cores),
                "spark.cores.max": str(region.executors * region.executor_cores),
            }
        )
    if not os.environ.get("PYSPARK_PYTHON"):
        # executors run the kernels with this interpreter (and its packages) unless the
        # model names the cluster nodes' one
        settings["spark.pyspark.python"] = region.python or sys.executable
    return settings


def retrying_master(master: str, attempts: int) -> str:
    """``local[N]`` never runs a failed task again, whatever spark.task.maxFailures says;
    ``local[N,F]`` does, F times in all. A master that names its own F, or a cluster, is
    kept as it is."""
    found = re.fullmatch(r"local(?:\[([^,\]]+)\])?", master)
    if found is None:
        return master
    return f"local[{found[1] or 1},{attempts}]"


def _make_session(region: Region) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SystemExit(
            f"toreador: {region.label}: the spark target needs PySpark (pip install pyspark, "
            f"and Java 17) where Main.py runs: {error}"
        ) from None

    keep_library_records("py4j")  # it logs each connection it closes at INFO
    existing = SparkSession.getActiveSession()
    if existing is not None:  # a notebook's or a test's session: used as it is
        _ship_modules(existing.sparkContext)
        return existing
    if (
        "PYSPARK_GATEWAY_PORT" in os.environ
    ):  # started by spark-submit: its options rule
        session = SparkSession.builder.appName(region.app_name).getOrCreate()
    else:
        master = os.environ.get("TOREADOR_SPARK_MASTER") or region.master
        master = retrying_master(master, region.max_attempts)
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        if not os.environ.get("PYSPARK_PYTHON"):
            # PySpark takes the workers' interpreter from this variable (in local mode it
            # ignores spark.pyspark.python): without it they start `python3` from PATH,
            # which may lack the packages of the interpreter running Main.py
            os.environ["PYSPARK_PYTHON"] = region.python or sys.executable
        builder = SparkSession.builder
        for key, value in session_settings(region, master).items():
            builder = builder.config(key, value)
        sys.stderr.write(f"toreador: starting Spark ({master}) for {region.label}\n")
        session = builder.getOrCreate()
        atexit.register(session.stop)
    _ship_modules(session.sparkContext)
    return session


def program_modules() -> list[Path]:
    """What the executors import: every module of this folder but Main.py, and every
    folder holding modules (its packages, and a folder the program adds to sys.path)."""
    modules = [path for path in sorted(HERE.glob("*.py")) if path.name != "Main.py"]
    return modules + module_folders(HERE)


def _ship_modules(context: Any) -> None:
    """Send the program's modules and this runtime to the executors, as one zip."""
    folder = Path(tempfile.mkdtemp(prefix="toreador-spark-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for module in program_modules():
            files = sorted(module.rglob("*.py")) if module.is_dir() else [module]
            for file in files:
                bundle.write(file, file.relative_to(HERE).as_posix())
    content = archive.getvalue()
    # named by content: Spark refuses a second file of one name with other content
    path = folder / f"toreador-{hashlib.sha256(content).hexdigest()[:16]}.zip"
    path.write_bytes(content)
    context.addPyFile(str(path))


# -- regions -------------------------------------------------------------------------------
def _task(
    apply_batch: Callable[..., list[Any]],
    job: bytes,
    partition: int,
    records: Iterable[Any],
) -> Iterator[bytes]:
    """A Spark task: the pattern's step over one partition; answers with one pickled
    outcome. The kernel and its arguments arrive pickled with the main program's process
    state (its command line, environment, settings), set around their loading (see
    travel.with_process)."""
    os.environ[IN_TASK] = "1"
    items: list[Any] = []
    try:
        kernel, repl = load_in_process(job)
        items = list(records)
    except Exception as error:
        # said at once: no attempt of the task would do better
        outcome: Outcome = not_started(partition, len(items), "the Spark task", error)
    else:
        outcome = run_batch(
            partition, apply_batch, kernel, repl, items, OutputRecorder()
        )
    yield pickled_outcome(outcome, items)


class _SparkRun(Driver[Region]):
    """One region run as Spark jobs: one job for a list, a job per chunk for a stream."""

    def __init__(
        self, region: Region, kernel: Callable[..., Any], repl: tuple[Any, ...]
    ):
        super().__init__(region, pattern_steps(region.pattern), WINDOW)
        self.tag = f"toreador-{uuid.uuid4().hex[:12]}"
        self.context = spark_session(region).sparkContext
        self.cores = region.workers or self.context.defaultParallelism
        # the kernel and replicated arguments, as Spark's cloudpickle sends functions (a
        # function of Main.py travels by value), with the main program's sys.argv
        from pyspark import cloudpickle

        pickled: Callable[[Any], bytes] = cloudpickle.dumps
        job = job_payload(
            region.label, region.kernel, (kernel, repl), "Spark tasks", pickled
        )
        self.task = partial(_task, self.steps.apply_batch, job)
        self.whole_list = False  # a list is one job; a stream a job per chunk
        self.pool = ThreadPoolExecutor(
            max_workers=WINDOW, thread_name_prefix="toreador"
        )
        self.running: set[Future[Outcome]] = set()

    def start(self, items: Iterable[Any]) -> list[Any]:
        total = len(items) if isinstance(items, Sequence) else None
        feed = feed_for(self.region, self.steps, items)
        self.whole_list = isinstance(feed, SequenceFeed)
        if self.whole_list:
            return self.run(feed, BatchSizer(fixed=total), total)
        sizer = BatchSizer(
            STREAM_CHUNK_SECONDS * self.cores,
            first=self.cores,  # the first chunk: one item per core, to measure
            least=self.cores,
            most=MAX_CHUNK_ITEMS,
            max_bytes=MAX_CHUNK_BYTES,
        )
        return self.run(feed, sizer, total)

    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        if self.whole_list:  # one job, its partitions in order
            partitions = list_pieces(
                self.region,
                len(batch),
                self.cores,
                PARTITIONS_PER_CORE,
                BAG_TASKS_PER_CORE,
            )
        else:  # a chunk: a consumer per core
            partitions = min(len(batch), self.cores)
            if not self.sizer.per_item_bytes:
                with contextlib.suppress(Exception):  # the job names what cannot travel
                    size = len(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
                    self.sizer.measure_bytes(size, len(batch))
        self.running.add(self.pool.submit(self.job, number, start, batch, partitions))

    def receive(self, timeout: float) -> Outcome | None:
        done, _ = wait(self.running, timeout, return_when=FIRST_COMPLETED)
        if not done:
            return None
        future = done.pop()
        self.running.discard(future)
        return future.result()

    def stop(self, finished: bool) -> None:
        if not finished:
            self.context.cancelJobsWithTag(self.tag)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def job(
        self, number: int, start: int, items: Sequence[Any], partitions: int
    ) -> Outcome:
        """One Spark job over ``items`` (the first is item ``start`` of the region): its
        partitions' outcomes, in order, as one."""
        try:
            rdd = self.context.parallelize(items, partitions)
        except Exception as error:  # pickling the items on the driver failed
            raise unsendable(
                self.region.label, items, start, error, "a Spark task"
            ) from error
        self.context.addJobTag(self.tag)
        try:
            answers = rdd.mapPartitionsWithIndex(self.task).collect()
        except Exception as error:
            raise self._engine_failure(error, start, items) from error
        finally:
            self.context.removeJobTag(self.tag)
        return combine(number, (pickle.loads(answer) for answer in answers))

    def _engine_failure(
        self, error: Exception, start: int, items: Sequence[Any]
    ) -> Exception:
        """Spark's own failure, as one clear error naming the region (its text kept): a
        task that lost its Python worker on every attempt is a ``WorkerLostError``."""
        lines = [line for line in str(error).splitlines() if line.strip()]
        cause = next(
            (line for line in lines if "Error" in line or "Exception" in line),
            lines[0] if lines else type(error).__name__,
        )
        gave_up = re.search(r"Task (\d+) in stage \S+ failed (\d+) times", str(error))
        crashed = re.search(r"Python worker exited unexpectedly[^.]*", str(error))
        failure: Exception
        if gave_up and crashed:
            failure = WorkerLostError(
                f"{self.region.label}: Spark task {gave_up[1]} of the job over items "
                f"{start}..{start + len(items) - 1} (kernel {self.region.kernel}) lost its "
                f"Python worker {gave_up[2]} time(s), all the attempts the session allows "
                f"(spark.task.maxFailures: the deployment model's max_attempts, "
                f"{self.region.max_attempts}, when toreador starts the session); the last "
                f"time: {crashed[0]}"
            )
            failure.add_note("Spark said:\n" + "\n".join(lines[:40]))
            return failure
        failure = SparkTaskError(
            f"{self.region.label}: a Spark job of kernel {self.region.kernel} failed outside "
            f"the kernel while {len(items)} item(s) were in flight: {cause.strip()[:300]}"
        )
        failure.add_note("Spark said:\n" + "\n".join(lines[:40]))
        return failure
