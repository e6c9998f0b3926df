"""The docker engine: runs a parallel region in worker containers on a Docker engine.

Why it looks the way it does:
- Main.py runs where the user runs it; at the first region it builds the program's image,
  creates a shared volume and starts the worker containers (``docker_containers``), all
  removed at exit. Work travels as batches (``docker_transport``): pickled lists of items;
  the kernel and its replicated arguments are sent once per region ("a job"), so kernels
  travel by reference to the shared module inside the image.
- A list, tuple or range is cut into batches up front (mapreduce: a few per worker;
  bag-of-tasks: one task per batch, for big bags at most BAG_TASKS_PER_WORKER per worker).
  Anything else, and every producer_consumer region, is streamed through the queue, a batch
  at a time, sized from the measured cost per item; it waits while queue_bound batches wait.
- An outer region (its kernel holds nested regions) gets one container per item, as in the
  original study (a container per gateway), at most `replicas` running at once; inside,
  the nested regions run with the local engine on the container's CPUs. The next items'
  containers (up to `replicas`) are started while earlier ones run, and wait for their item.
- A region of the worker group runs its first items in Main.py, measured, and goes to the
  containers only once they would win (``placement``; an engine on this machine only, never
  an outer region): a small region in a loop never starts the group.
- Outcomes are replayed in input order (``driver``); a worker container that dies gives
  back the batches it had claimed (``docker_transport``), which go to a new container, up
  to the region's max_attempts.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .docker_transport import IN_CONTAINER, is_local_engine, worker_transport
from .driver import BatchSizer, Driver, WorkerLost, feed_for, list_pieces
from .local import run_nested
from .outcomes import Outcome, not_started, pattern_steps, pickled_outcome, run_batch
from .output import OutputRecorder, SequenceFeed
from .placement import (
    Costs,
    Started,
    move_cost,
    record_timing,
    running_in_place,
    start_in_place,
)
from .process_state import apply
from .semantics import (
    PrimitiveUsageError,
    RegionRecord,
    is_list_like,
    region_items,
    run_region,
)
from .travel import (
    by_value_where_needed,
    job_payload,
    load_job,
    pickled_batch,
)

if TYPE_CHECKING:
    from .docker_containers import DockerEngine

__all__ = ["PrimitiveUsageError", "Region", "run_region", "serve"]

BATCHES_PER_WORKER = 4  # a list's batches: enough to balance uneven items
BAG_TASKS_PER_WORKER = (
    64  # bag-of-tasks: one task per batch, up to this many per worker
)
STREAM_BATCH_SECONDS = 0.5  # a streamed batch's wanted length, from measured item cost
MAX_BATCH_ITEMS = 100_000
MAX_BATCH_BYTES = 32 * 1024 * 1024
HEALTH_SECONDS = 1.0  # how often, while waiting, the workers are checked to be alive
KEPT_JOBS = 4  # a worker keeps the kernels and arguments of this many regions
# What the worker group costs a region before its first result, for the in-place rule
# (``placement``): its start (the image found, the volume, two containers: about 1 s here)
# before the run's first region that uses it; then a region's round trip through the volume
# (about 10 ms a region of 30 small items here).
GROUP_START_SECONDS = 1.0
GROUP_REGION_SECONDS = 0.01
_GROUP_STARTED = [False]


def _shared_temp_folder() -> str:
    """A folder of this run for what the main program makes with ``tempfile``: containers
    of an engine on this machine see it read-only at the same path (``docker_containers``),
    so a kernel opens a temporary copy the program wrote, as the sequential run does. Made
    before the program's own code runs (TMPDIR, and ``tempfile.tempdir`` when tempfile is
    imported already); removed at exit when the program left nothing in it."""
    base = next(
        (
            os.environ[n]
            for n in ("TMPDIR", "TEMP", "TMP")
            if os.path.isdir(os.environ.get(n, ""))
        ),
        "/tmp",
    )
    folder = os.path.join(base, f"toreador-tmp-{uuid.uuid4().hex[:12]}")
    try:
        os.mkdir(folder, 0o700)
    except OSError:
        return ""
    os.environ["TMPDIR"] = folder
    if "tempfile" in sys.modules:
        setattr(sys.modules["tempfile"], "tempdir", folder)  # noqa: B010 - any module
    atexit.register(_remove_if_empty, folder)
    return folder


def _remove_if_empty(folder: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(folder)


# (not in a container: there TMPDIR is the container's own)
SHARED_TEMP = "" if os.environ.get(IN_CONTAINER) else _shared_temp_folder()


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run in worker containers, with the Docker settings of the model."""

    outer: bool = False  # the kernel holds nested regions: one container per item
    base_image: str = "python:3.11-slim"
    replicas: int = 2
    network_mode: str = ""
    volume: str = "toreador-data"
    docker_host: str = ""
    redis_url: str = ""
    redis_image: str = "redis:7-alpine"
    queue_bound: int = 8
    mount_host_paths: bool = True
    cpus: int = 1
    memory: str = "1g"
    app_name: str = "toreador"
    # "auto": a worker-group region whose work cannot pay for the containers runs in
    # Main.py (engine on this machine only); "workers": always in containers
    placement: str = "auto"

    def files_workers_see(self) -> str:
        return (
            "a worker container sees only Main.py's working directory, the paths its "
            "command line names, and the files the program made with tempfile (read-only)"
        )

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        if os.environ.get(IN_CONTAINER):
            cpus = int(os.environ.get("TOREADOR_CPUS", "1"))
            return run_nested(self, data, kernel, repl, cpus)
        items, kernel, repl = region_items(self.primitive, data, kernel, repl)
        if running_in_place():
            return [kernel(item, *repl) for item in items]
        if is_list_like(items) and len(items) == 0:  # type: ignore[arg-type]
            return []
        offset = 0
        if self._may_run_here():
            started = self._start_here(items, kernel, repl)
            if started.rest is None:
                record_timing(self.label, "in-place")
                return started.values
            record_timing(self.label, f"containers-after-{started.offset}")
            items, offset = started.rest, started.offset
            values = started.values
        else:
            values = []
        # here, not at the top: a worker container imports this module too, and the
        # engine's side (the Docker SDK, the image builder) costs each one-item container
        # 40-50 ms of imports it never uses
        from .docker_containers import engine

        _GROUP_STARTED[0] = True
        run = _DockerRun(engine(self), self, kernel, repl)
        return values + run.start(items, offset)

    def _may_run_here(self) -> bool:
        """The in-place rule applies to the long-lived worker group's regions, on an engine
        of this machine: not to an outer region's one container per item (the deployment's
        shape), nor to a group elsewhere (an edge node near the data, an external group),
        where a kernel must run where the group is."""
        return (
            self.placement == "auto"
            and not self.outer
            and not self.docker_host
            and is_local_engine(os.environ.get("DOCKER_HOST", ""))
            and os.environ.get("TOREADOR_DOCKER_WORKERS") != "external"
        )

    def _start_here(
        self, items: Iterable[Any], kernel: Any, repl: tuple[Any, ...]
    ) -> Started:
        """The first items here, measured, until the containers would win (``placement``):
        their start, or a region's round trip once they run; the items and results travel
        pickled."""
        start = GROUP_REGION_SECONDS if _GROUP_STARTED[0] else GROUP_START_SECONDS
        workers = max(1, self.workers or self.replicas)

        def costs(item: Any, value: Any) -> Costs:
            if item is None and value is None:
                return Costs(start, workers)
            return Costs(start, workers, move_cost(item, value))

        return start_in_place(self, items, kernel, repl, costs)


class _DockerRun(Driver[Region]):
    """One region run on the workers through a transport."""

    def __init__(
        self,
        engine: DockerEngine,
        region: Region,
        kernel: Callable[..., Any],
        repl: tuple[Any, ...],
    ) -> None:
        super().__init__(region, pattern_steps(region.pattern), 1)
        self.engine, self.kernel, self.repl = engine, kernel, repl
        self.job = uuid.uuid4().hex[:12]
        queue = (
            region.pattern == "producer-consumer"
            or engine.edge
            or not engine.local
            or engine.external
        )
        self.kind = "queue" if queue else "volume"
        self.per_item = region.outer and not engine.external
        self.transport = engine.transport(self.kind)
        self.workers = [] if self.per_item else engine.pool(self.kind)
        self.slots = max(1, region.workers or region.replicas)
        self.per_item_containers: list[Any] = []
        self.starting: list[Future[Any]] = []  # one-item containers being started
        # one-item containers started ahead, waiting for their batch: the next items'
        # containers start (create, start, imports: about 0.6 s) while earlier ones run
        self.spares = 0
        self.total: int | None = None
        self.dead: list[tuple[Any, str]] = []  # containers found dead, their last logs
        self.last_check = time.monotonic()

    def start(self, items: Iterable[Any], offset: int = 0) -> list[Any]:
        """The items from ``offset`` on (those before it ran in Main.py)."""
        region = self.region
        job = (region.pattern, self.kernel, self.repl)
        payload = job_payload(
            region.label,
            region.kernel,
            job,
            "a worker container",
            by_value_where_needed,
        )
        self.transport.publish_job(self.job, payload)
        feed = feed_for(region, self.steps, items, offset=offset)
        if isinstance(feed, SequenceFeed):
            size = len(feed.items) - offset
            self.total = size
            pieces = list_pieces(
                region, size, self.slots, BATCHES_PER_WORKER, BAG_TASKS_PER_WORKER
            )
            sizer = BatchSizer(fixed=1 if self.per_item else -(-size // pieces))
        else:
            sizer = BatchSizer(
                STREAM_BATCH_SECONDS,
                first=max(1, len(self.workers) or self.slots),  # to measure
                most=MAX_BATCH_ITEMS,
                max_bytes=MAX_BATCH_BYTES,
                fixed=1 if self.per_item else None,
            )
        total = len(items) if isinstance(items, Sequence) else None
        return self.run(feed, sizer, total)

    def room(self, in_flight: int, waiting: int) -> bool:
        """Batches not yet replayed are bounded: queue_bound waiting beyond one per worker
        (this bounds the queue and what waits here for its turn); outer regions run at most
        `replicas` one-item containers at once."""
        if self.per_item:
            return in_flight + waiting < self.slots
        return in_flight + waiting < self.region.queue_bound + len(self.workers)

    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        payload = pickled_batch(self.region.label, batch, start, "a worker container")
        self.sizer.measure_bytes(len(payload), len(batch))
        self.transport.put(self.job, number, payload)
        if not self.per_item:
            return
        if self.spares:  # a container started ahead takes it
            self.spares -= 1
        else:
            self._start_item_container()
        if self.total is not None:  # at most `replicas` more, for items still to come
            unsent = self.total - (start + len(batch))
            while self.spares < min(self.slots, unsent):
                self._start_item_container()
                self.spares += 1

    def _start_item_container(self) -> None:
        """Asked of the engine's starting threads, not waited for: the engine creates
        several containers at once, and a batch waits in the transport until one claims it."""
        self._started()
        self.starting.append(self.engine.start_worker_soon(self.kind, one_batch=True))

    def _started(self) -> None:
        """The one-item containers started since the last look (a start that failed
        raises its error here: the region cannot run without them)."""
        for future in [future for future in self.starting if future.done()]:
            self.starting.remove(future)
            self.per_item_containers.append(future.result())

    def receive(self, timeout: float) -> Outcome | None:
        answer = self.transport.get(self.job, timeout)
        if answer is None:
            return None
        outcome: Outcome = pickle.loads(answer[1])
        return outcome

    def check(self, batches: int, first: int, last: int) -> None:
        """A worker container that died: the batches it had claimed are lost (its claims
        are dropped here) and will be sent again to a new container (``restart``)."""
        if time.monotonic() - self.last_check < HEALTH_SECONDS:
            return
        self.last_check = time.monotonic()
        self._started()
        containers = self.per_item_containers if self.per_item else self.workers
        failed = self.engine.failed_container(containers)
        if failed is None:
            return
        container, logs = failed
        cause, _, tail = logs.partition("\n")
        self.dead.append((container, tail))
        lost = self.transport.lost_claims(self.job, container.name)
        death = f"container {container.name}: {cause}"
        raise WorkerLost(dict.fromkeys(lost, death), [death])

    def restart(self, unanswered: set[int], lost: set[int]) -> set[int] | None:
        """Remove the dead containers and start new ones in their place (an outer region's
        one-item containers are started again as their batches are sent again)."""
        for container, _ in self.dead:
            self.engine.discard(container)
            for started in (self.workers, self.per_item_containers):
                if container in started:
                    started.remove(container)
                    if started is self.workers:
                        self.workers.append(
                            self.engine.start_worker(self.kind, one_batch=False)
                        )
        self.dead.clear()
        return lost

    def stop(self, finished: bool) -> None:
        """The job's files go. Containers started ahead for items never sent are removed:
        nothing would come for them. When the region failed, so are the ones still running
        items: the reference stops at the first failure, and their results would not be
        used (starts not yet begun are dropped)."""
        for future in self.starting:
            future.cancel()
        for future in self.starting:
            if not future.cancelled() and future.exception() is None:
                self.per_item_containers.append(future.result())
        self.starting.clear()
        unused = self.per_item_containers[
            0 if not finished else len(self.per_item_containers) - self.spares :
        ]
        if not self.engine.closed:  # else the engine's sweep removed them all
            removals = [
                self.engine.starter.submit(self.engine.discard, c) for c in unused
            ]
            for removal in removals:
                removal.result()
        self.spares = 0
        self.transport.finish_job(self.job)


def serve() -> None:
    """A worker container's loop: take a batch, run the pattern's step on it, answer with
    its outcome; until the container is removed (or after TOREADOR_MAX_BATCHES batches:
    the one-item containers of an outer region)."""
    worker = (
        os.environ.get("TOREADOR_WORKER")
        or f"{os.environ.get('HOSTNAME')}-{os.getpid()}"
    )
    transport = worker_transport()
    limit = int(os.environ.get("TOREADOR_MAX_BATCHES", "0"))
    jobs: dict[str, tuple[bytes, tuple[str, Any, tuple[Any, ...]]]] = {}
    done = 0
    while not limit or done < limit:
        job, batch, payload = transport.take(worker)
        items: list[Any] = []
        if job not in jobs:
            try:
                stored = transport.job(job)
            except (LookupError, FileNotFoundError):
                continue  # its region has ended (an earlier item failed): nobody waits for it
        try:
            if job not in jobs:
                jobs[job] = load_job(stored)
                if (
                    len(jobs) > KEPT_JOBS
                ):  # a region's kernel and arguments, kept a while
                    del jobs[next(iter(jobs))]
            state, (pattern, kernel, repl) = jobs[job]
            apply(state)  # this region call's, where the last batch was another's
            items = pickle.loads(payload)
            apply_batch = pattern_steps(pattern).apply_batch
        except BaseException as error:
            # the batch cannot even start: say so, never drop it
            outcome: Outcome = not_started(
                batch, len(items), "the worker container", error
            )
        else:
            recorder = OutputRecorder()
            outcome = run_batch(batch, apply_batch, kernel, repl, items, recorder, True)
        transport.answer(job, batch, pickled_outcome(outcome, items))
        done += 1
