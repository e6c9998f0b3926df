"""The local engine: runs a parallel region on this machine, in the main process or in forked
worker processes, whichever is faster for that region call.

Why it looks the way it does:
- A region runs in workers only when that wins (``placement``): its first items run here,
  the kernel's time measured, and the rest goes to workers only if the work left pays for
  starting and feeding them. A small region, or one called in a loop with little work,
  runs in place, as the sequential program runs it.
- The workers (``local_workers``) are forked when first needed and kept for the next
  regions while the state they inherited is still the program's.
- This module imports only what running in place needs: a program whose regions all run
  in place starts as fast as the sequential one.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .placement import (
    KEPT_START_SECONDS,
    Costs,
    Handover,
    Started,
    forgone,
    is_small,
    move_cost,
    ran_in_place,
    record_timing,
    run_small,
    start_in_place,
)
from .semantics import (
    SEQUENCE_TYPES,
    PrimitiveUsageError,
    RegionRecord,
    region_items,
    run_in_place,
    run_region,
    worker_count,
)

__all__ = [
    "PrimitiveUsageError",
    "Region",
    "run_nested",
    "run_region",
]

# What forking a set of workers costs before this program has forked any (measured here:
# 5 ms for a small program, 10-12 ms with pandas loaded; ``local_workers`` measures it).
FIRST_FORK_SECONDS = 0.008
# While a call's first item imports modules, the timer waits this many times what forking
# costs before it forks anyway: imports may be all that item costs, or the start of a heavy
# one, which the other cores should not sit out.
IMPORT_RINGS = 4
# ... unless the call has fewer items than this per process: starting workers a few tens of
# milliseconds sooner gains a short list little, and a fork it then does not use costs that.
FEW_ITEMS = 8
_IN_WORKER = False
_ENGINE: ModuleType | None = None  # local_workers, once a region has needed workers


def in_worker(value: bool = True) -> bool:
    """This process is (or, with False, is no longer) running a region's batch: a nested
    region runs in place (the cores are in use). The previous value."""
    global _IN_WORKER
    previous, _IN_WORKER = _IN_WORKER, value
    return previous


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run here or by worker processes forked from this one."""

    # "auto": in workers only when they win; "workers": always in workers (the model's key)
    placement: str = "auto"

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        # Workers inherit the items of a bag of tasks when they are forked: only task
        # numbers are sent, so a task may hold a function pickle could not ship (a lambda).
        items, kernel, repl = region_items(self.primitive, data, kernel, repl)
        workers = self.workers or _cores()
        size = len(items) if isinstance(items, SEQUENCE_TYPES) else None
        if (
            _IN_WORKER
            or workers == 1
            or (size is not None and size <= 1)
            or not _can_fork()
        ):
            return [kernel(item, *repl) for item in items]
        if self.placement == "workers":
            return _Call(
                self, items, size, kernel, repl, workers, here=False
            ).in_workers(Started([], items, 0, 0.0))
        if size is not None and is_small(self.label, size):
            # the last call measured it: its work is less than even kept workers' start
            in_worker(True)  # a region nested in it runs in place
            try:
                values = run_small(self, items, kernel, repl)
            finally:
                in_worker(False)
            record_timing(self.label, "in-place")
            return values
        call = _Call(self, items, size, kernel, repl, workers, here=True)
        with call.forking_early(), running_here():
            started = start_in_place(
                self, items, kernel, repl, call.costs, call.handover
            )
        if started.rest is None:
            record_timing(self.label, "in-place")
            ran_in_place(started.seconds, workers)
            call.keep()
            return started.values
        return started.values + call.in_workers(started)


class _Call:
    """One call of a region: the workers it may use, found or forked only when needed."""

    def __init__(
        self,
        region: Region,
        items: Iterable[Any],
        size: int | None,
        kernel: Any,
        repl: tuple[Any, ...],
        workers: int,
        here: bool,
    ) -> None:
        self.region, self.items, self.size = (
            region,
            items,
            size,
        )  # size: None if unknown
        self.kernel, self.repl = kernel, repl
        self.workers, self.here = workers, here
        # the kept workers and this region's setup for them, looked at only once the work
        # might pay for workers (a tiny region never checks them)
        self.taken: tuple[Any, bytes | None] | None = None
        self.early: Any = None  # a run whose workers were forked while items ran here
        self.handover = Handover()

    def take(self) -> tuple[Any, bytes | None]:
        if self.taken is None:
            kept, setup = None, None
            if _ENGINE is not None and self.early is None:
                kept = _ENGINE.take_kept()
                if kept is not None:
                    setup = _ENGINE.setup_bytes(
                        self.kernel, self.repl, self.region.pattern
                    )
                if kept is not None and setup is None:
                    kept.retire()  # the arguments cannot travel: new workers inherit them
                    kept = None
            self.taken = (kept, setup)
        return self.taken

    def costs(self, item: Any, value: Any) -> Costs:
        """What workers would cost the rest of this call (see ``placement``)."""
        if self.early is not None:  # forked already: only the batches' round trips
            return Costs(KEPT_START_SECONDS, self.workers)
        kept, _ = self.take()
        if kept is not None:  # its workers and this process
            return Costs(KEPT_START_SECONDS, kept.size + 1, move_cost(item, value))
        fork = _ENGINE.fork_seconds() if _ENGINE is not None else FIRST_FORK_SECONDS
        # a loop of regions each too small for a fork pays for one over its calls
        return Costs(max(KEPT_START_SECONDS, fork - forgone()), self.workers)

    def count(self, left: int | None) -> int:
        """Workers to fork for ``left`` items (None: unknown), this process aside."""
        return max(1, min(self.workers, left or self.workers) - self.here)

    @contextlib.contextmanager
    def forking_early(self) -> Iterator[None]:
        """While the first items run here, the workers are forked once those items have
        taken what forking costs (a timer): the call's first item may be heavy, and waiting
        for it to end before forking would leave the other cores idle all that time. Not
        when workers are kept, nor where the timer is not ours to set."""
        # the C module under ``signal``: its enums cost a millisecond to import, as much as
        # a small program's regions; threading's main thread is asked by signal() itself
        signals: Any = importlib.import_module("_signal")
        seconds = _ENGINE.fork_seconds() if _ENGINE is not None else FIRST_FORK_SECONDS
        if (
            (_ENGINE is not None and _ENGINE.has_kept())
            or signals.getsignal(signals.SIGALRM) != signals.SIG_DFL
            or signals.getitimer(signals.ITIMER_REAL) != (0.0, 0.0)
        ):
            yield
            return
        modules = [len(sys.modules)]
        rings = [0]
        held = [False]  # the last ring did not fork: an import or an unsafe moment
        size = self.size

        def ring(_: int, frame: Any) -> None:
            rings[0] += 1
            importing = len(sys.modules) != modules[0]
            modules[0] = len(sys.modules)
            few = size is not None and size < FEW_ITEMS * self.workers
            waiting = importing and (few or rings[0] < IMPORT_RINGS)
            if waiting or not _engine().safe_to_fork(frame):
                # a first call importing (maybe all it costs: the items may be cheap), for
                # a while; or a moment when a fork is not safe (a lock held, a module half
                # imported): later
                held[0] = True
                signals.setitimer(signals.ITIMER_REAL, seconds)
                return
            if held[0]:
                # the import (or the unsafe moment) ended within the last interval: the
                # items after it get a whole interval of their own before a fork, or a
                # ring landing just after a long import would fork for cheap items
                held[0] = False
                signals.setitimer(signals.ITIMER_REAL, seconds)
                return
            if self.early is None and self.taken is None:
                try:
                    self.fork_early()
                # a failed fork is never the kernel's failure: its items go on here
                except Exception as error:
                    sys.stderr.write(
                        f"toreador: {self.region.label}: no early fork: {error}\n"
                    )

        try:
            signals.signal(signals.SIGALRM, ring)
        except ValueError:  # not the main thread: signals are the main thread's
            yield
            return
        signals.siginterrupt(
            signals.SIGALRM, False
        )  # a system call it lands in goes on
        signals.setitimer(signals.ITIMER_REAL, seconds)
        try:
            yield
        except BaseException:
            signals.setitimer(signals.ITIMER_REAL, 0)
            if self.early is not None:  # an item here failed: nothing more is run
                self.early.abandon()
            raise
        finally:
            signals.setitimer(signals.ITIMER_REAL, 0)
            signals.signal(signals.SIGALRM, signals.SIG_DFL)

    def fork_early(self) -> None:
        """Fork the workers now, while items run here; where they inherit a list, send them
        the items after the chunk running here (see ``placement.Handover``)."""
        size = self.size
        count = self.count(size)
        run = _engine().new_run(
            self.region, self.kernel, self.repl, count, None, None, True
        )
        run.fork_now(self.items)
        end = self.handover.end
        if size is not None and 0 <= end < size and run.inherits:
            run.send_first(end, min(size - end, 2 * count))
            self.handover.sent_from = end
        self.early = run
        self.handover.requested = True

    def keep(self) -> None:
        """All ran here: workers taken or forked early are kept for the next regions."""
        if _ENGINE is None:
            return
        if self.early is not None:
            self.early.keep()
        elif self.taken is not None:
            _ENGINE.keep(self.taken[0])

    def in_workers(self, started: Started) -> list[Any]:
        """The items ``started`` left, in workers (and here, unless the model says not)."""
        engine = _engine()
        assert started.rest is not None
        run = self.early
        where = "new"  # forked while the first items ran here
        if run is None:
            kept, setup = self.take()
            left = None if self.size is None else self.size - started.offset
            count = kept.size if kept is not None else self.count(left)
            run = engine.new_run(
                self.region, self.kernel, self.repl, count, kept, setup, self.here
            )
            where = "kept" if kept is not None else "new"
        record_timing(self.region.label, f"{where}-workers-after-{started.offset}")
        values: list[Any] = run.start(started.rest, started.offset, self.size)
        return values


@contextlib.contextmanager
def running_here() -> Iterator[None]:
    """A region's items run in this process: a region nested in them runs in place too
    (the outer region is the one to share out)."""
    previous = in_worker()
    try:
        yield
    finally:
        in_worker(previous)


def run_nested(
    region: RegionRecord,
    data: Iterable[Any],
    kernel: Any,
    repl: tuple[Any, ...],
    cpus: int,
) -> list[Any]:
    """A nested region inside another engine's worker (a Spark task, a container): on its
    own ``cpus`` with this engine, or in place with one CPU."""
    if cpus <= 1:
        return run_in_place(region, data, kernel, repl)
    local = Region(region.label, region.primitive, region.pattern, region.kernel, cpus)
    return local.run(data, kernel, *repl)


def _cores() -> int:
    """The machine's cores, as this process may use them (looked up once: a system call)."""
    if not _CORES:
        _CORES.append(worker_count(0))
    return _CORES[0]


_CORES: list[int] = []


def _can_fork() -> bool:
    return hasattr(os, "fork")


def _engine() -> ModuleType:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = importlib.import_module(f"{__package__}.local_workers")
    return _ENGINE


def __getattr__(name: str) -> Any:
    """``WorkerLostError`` without importing the engine's outcomes up front."""
    if name == "WorkerLostError":
        from .outcomes import WorkerLostError

        return WorkerLostError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
