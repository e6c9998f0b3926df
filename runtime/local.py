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

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .placement import (
    KEPT_START_SECONDS,
    Costs,
    Started,
    forgone,
    move_cost,
    ran_in_place,
    record_timing,
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
_IN_WORKER = False
_ENGINE: ModuleType | None = None  # local_workers, once a region has needed workers


def in_worker() -> None:
    """This process is a worker: a nested region runs in place (the cores are in use)."""
    global _IN_WORKER
    _IN_WORKER = True


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run here or by worker processes forked from this one."""

    # "auto": in workers only when they win; "workers": always in workers (the model's key)
    placement: str = "auto"

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        # Workers inherit the items of a bag of tasks when they are forked: only task
        # numbers are sent, so a task may hold a function pickle could not ship (a lambda).
        items, kernel, repl = region_items(self.primitive, data, kernel, repl)
        workers = worker_count(self.workers)
        size = len(items) if isinstance(items, SEQUENCE_TYPES) else None
        if (
            _IN_WORKER
            or workers == 1
            or (size is not None and size <= 1)
            or not _can_fork()
        ):
            return [kernel(item, *repl) for item in items]
        engine = _ENGINE
        kept = engine.take_kept() if engine is not None else None
        setup = None
        if engine is not None and kept is not None:
            setup = engine.setup_bytes(kernel, repl, self.pattern)
        if kept is not None and setup is None:
            kept.retire()  # this region's arguments cannot travel: new workers inherit them
            kept = None

        def costs(item: Any, value: Any) -> Costs:
            if kept is not None:
                return Costs(KEPT_START_SECONDS, kept.size, move_cost(item, value))
            fork = engine.fork_seconds() if engine is not None else FIRST_FORK_SECONDS
            # a loop of regions each too small for a fork pays for one over its calls
            return Costs(max(KEPT_START_SECONDS, fork - forgone()), workers)

        if self.placement == "workers":
            started = Started([], items, 0, 0.0)
        else:
            started = start_in_place(self, items, kernel, repl, costs)
        if started.rest is None:
            record_timing(self.label, "in-place")
            ran_in_place(started.seconds, workers)
            if engine is not None:
                engine.keep(kept)
            return started.values
        engine = _engine()
        left = None if size is None else size - started.offset
        count = kept.size if kept is not None else min(workers, left or workers)
        record_timing(
            self.label, f"{'kept' if kept else 'new'}-workers-after-{started.offset}"
        )
        rest: list[Any] = engine.run_in_workers(
            self, kernel, repl, started, size, count, kept, setup
        )
        return started.values + rest


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
