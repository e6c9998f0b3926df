"""Where a region's items run: here, in the main process, or in worker processes.

Why: workers cost time of their own. Forking a copy of the program and ending it takes
milliseconds (more for a large program); kept workers still cost a round trip per batch and
the pickling of every item and result. A region whose work is smaller than that runs faster
in the main process, item after item, as the sequential program does; a loop that calls a
small region a thousand times must not pay for workers a thousand times.

The rule, per region call: run the first items here while measuring the kernel's own time
(never the producer's). As soon as the work left, estimated from the measured cost per item,
would run faster in workers, with a margin, hand the rest to them:

    start + left * cost / workers + left * move  <  SHARE * left * cost

``start`` is what starting workers costs now (forking, measured on this machine, or a kept
set's per-region cost), ``move`` the measured cost of pickling an item and its result when
items travel to kept workers. When the number of items is unknown (a generator), the items
run here until their kernel time exceeds ``start``: if the stream goes on, at most the cost
of starting workers was spent in place; if it ends, nothing was. A region called again
starts from the cost per item its last call measured, so a heavy region goes to workers at
once and a tiny one runs in place without measuring.

Running in place keeps the primitive's meaning: items run in input order, what they print
goes out as it is printed, a kernel's exception is raised (with a note naming the item) and
nothing after it runs. An item during which the kernel imported modules (a first call
loading what it needs) is not taken as what the next items cost: the decision waits for
one that imported nothing. The compiler has already checked that kernels change nothing the main
program reads, which is what makes running them here the same as running them in workers.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from .semantics import (
    SEQUENCE_TYPES,
    RegionRecord,
    describe_item,
    failure_note,
    is_list_like,
)

# Workers are used only when their estimated time is at most this share of the time in place:
# a wrong guess near the break-even point then costs little either way.
SHARE = 0.8
# How long a chunk of a list runs in place between two looks at the clock.
CHUNK_SECONDS = 0.001
# Weight of the newest measurement in the per-region cost remembered between calls.
SMOOTHING = 0.5
# What a region costs on kept workers before its first result: its kernel and replicated
# arguments pickled and read once per worker, a few round trips (measured here: 0.25-0.3 ms
# a region of 40 tiny items on two kept workers).
KEPT_START_SECONDS = 0.0004

# Items of a region call run here now (``start_in_place``): a region nested in them runs in
# place too, on every engine (the outer region is the one to share out).
_IN_PLACE = [False]
# The cost per item each region measured on its last call, by label (in this process).
_LAST_COST: dict[str, float] = {}
# What kept workers would have saved on the regions run in place since the last fork: a
# loop of regions each too small to pay for a fork pays for one once this reaches its cost.
_FORGONE = [0.0]


class Started(NamedTuple):
    """The items run in place, and what is left for workers: ``rest`` is None when every
    item ran here; else the list itself from position ``offset``, or an iterator whose next
    item is item ``offset``."""

    values: list[Any]
    rest: Iterable[Any] | None
    offset: int
    seconds: float  # the kernel's time on the items run here


class Handover:
    """Between a timer and the items running here: ``end`` is where the chunk running now
    ends (-1: unknown, a generator's); once ``requested``, workers have been forked (and,
    where they inherit a list, sent the items from ``sent_from``, the ``end`` the timer
    read): the items here stop there. The timer fires between any two bytecodes, so the
    loop stores ``end`` before it looks at ``requested``, and runs here whatever lies
    between its position and ``sent_from`` before it hands over."""

    def __init__(self) -> None:
        self.end = -1
        self.requested = False
        self.sent_from = -1  # where the items sent to the workers begin (-1: none sent)


class Costs(NamedTuple):
    """What workers would cost this region call: ``start`` seconds before the first batch,
    ``move`` seconds per item that travels (0 when the workers inherit the items)."""

    start: float
    workers: int
    move: float = 0.0

    def workers_pay(self, left: int | None, per_item: float, spent: float) -> bool:
        """Would the ``left`` items (None: unknown) run faster in workers, at ``per_item``
        seconds each, with ``spent`` seconds of kernel time already run in place?"""
        if left is None:
            return spent > self.start
        if left < 2:
            return False
        workers = min(self.workers, left)
        here = left * per_item
        there = self.start + here / workers + left * self.move
        return there < SHARE * here


# TOREADOR_TIMINGS, as the program was started with it (read once: a region in a loop runs
# in microseconds, and looking the environment up costs one)
_TIMINGS = os.environ.get("TOREADOR_TIMINGS", "")


def record_timing(label: str, event: str) -> None:
    """With TOREADOR_TIMINGS naming a file, append the moment of a region's ``event`` to it:
    where each call ran (in place, on kept or on new workers), its first result, its end."""
    if _TIMINGS:
        with open(_TIMINGS, "a", encoding="utf-8") as timings:
            timings.write(f"{time.time():.6f} {event} {label}\n")


def forgone() -> float:
    """Seconds workers would have saved on the regions run in place since the last fork."""
    return _FORGONE[0]


def ran_in_place(seconds: float, workers: int) -> None:
    """A region call ran wholly in place, its kernel taking ``seconds``."""
    _FORGONE[0] += max(0.0, seconds * (1 - 1 / workers) - KEPT_START_SECONDS)


def forked() -> None:
    """Workers were forked: their cost is paid; savings forgone count again from here."""
    _FORGONE[0] = 0.0


def remembered_cost(label: str) -> float | None:
    return _LAST_COST.get(label)


def remember_cost(label: str, per_item: float | None) -> None:
    """Keep a region's measured cost per item for its next call."""
    if per_item is None:
        return
    previous = _LAST_COST.get(label)
    _LAST_COST[label] = (
        per_item
        if previous is None
        else (1 - SMOOTHING) * previous + SMOOTHING * per_item
    )


def is_small(label: str, size: int) -> bool:
    """Whether the region's last call measured less work for ``size`` items than even kept
    workers take to start: no need to measure or look at workers again."""
    cost = _LAST_COST.get(label)
    return cost is not None and cost * size <= KEPT_START_SECONDS


def run_small(
    region: RegionRecord,
    items: Iterable[Any],
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
) -> list[Any]:
    """A small region's items here, at a few microseconds of bookkeeping per call; the cost
    per item measured again (unless the kernel imported modules meanwhile)."""
    values: list[Any] = []
    modules = len(sys.modules)
    started = time.perf_counter()
    _apply(region, kernel, repl, items, values)
    elapsed = time.perf_counter() - started
    if values and len(sys.modules) == modules:
        remember_cost(region.label, elapsed / len(values))
    return values


def move_cost(item: Any, value: Any) -> float:
    """Seconds to pickle and unpickle one item and its result: what a kept worker's batch
    costs per item beyond the kernel (measured on the first item of the call)."""
    import pickle  # here: a program whose regions all run in place never needs it

    started = time.perf_counter()
    try:
        pickle.loads(pickle.dumps((item, value), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return 0.0  # cannot travel: the engine reports that item when it sends it
    return 2 * (time.perf_counter() - started)


def running_in_place() -> bool:
    """Whether this runs inside an item of a region call running here (``start_in_place``)."""
    return _IN_PLACE[0]


def start_in_place(
    region: RegionRecord,
    items: Iterable[Any],
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    costs: Callable[[Any, Any], Costs],
    handover: Handover | None = None,
) -> Started:
    """Run items here while workers would not win (see the module's docstring). ``costs``
    is asked with the call's first item and its value, once they are measured (or with
    None twice when the region's last call is what decides). ``handover``: see there.
    Meanwhile ``running_in_place`` is true."""
    previous, _IN_PLACE[0] = _IN_PLACE[0], True
    try:
        return _start_in_place(region, items, kernel, repl, costs, handover)
    finally:
        _IN_PLACE[0] = previous


def _start_in_place(
    region: RegionRecord,
    items: Iterable[Any],
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    costs: Callable[[Any, Any], Costs],
    handover: Handover | None,
) -> Started:
    handover = handover or Handover()
    size = len(items) if isinstance(items, SEQUENCE_TYPES) else None
    remembered = _LAST_COST.get(region.label)
    per_chunk = 1
    if size is not None and remembered is not None:
        work = remembered * size
        if (
            work > KEPT_START_SECONDS
            and is_list_like(items)
            and costs(None, None).workers_pay(size, remembered, 0.0)
        ):
            return Started([], items, 0, 0.0)
        per_chunk = max(1, min(int(CHUNK_SECONDS / max(remembered, 1e-9)), 1 << 16))
    iterator = iter(items)
    rest: Iterable[Any]
    values: list[Any] = []
    spent = 0.0  # the kernel's time here
    measured, measured_items = 0.0, 0  # ... on items that imported nothing
    estimate: Costs | None = None
    while True:
        done, modules = len(values), len(sys.modules)
        handover.end = -1 if size is None else min(size, done + per_chunk)
        if handover.requested:
            return _handed_over(
                region, items, iterator, kernel, repl, values, spent, handover
            )
        if size is None:
            # a generator: its items are produced one by one, between the kernel's calls
            try:
                item = next(iterator)
            except StopIteration:
                break
            started = time.perf_counter()
            _apply(region, kernel, repl, (item,), values)
        else:
            started = time.perf_counter()
            _apply(region, kernel, repl, itertools.islice(iterator, per_chunk), values)
        elapsed = time.perf_counter() - started
        spent += elapsed
        ran = len(values) - done
        if not done and ran:
            record_timing(region.label, "first-result")
        if len(sys.modules) == modules:  # else a first call loading what it needs
            measured, measured_items = measured + elapsed, measured_items + ran
        if size is not None and (ran < per_chunk or len(values) == size):
            break
        if handover.requested:  # workers were forked meanwhile: they take the rest
            return _handed_over(
                region, items, iterator, kernel, repl, values, spent, handover
            )
        if not measured_items:
            continue
        if estimate is None:
            estimate = costs(_first(items, size), values[0])
        left = None if size is None else size - len(values)
        per_item = measured / measured_items
        if estimate.workers_pay(left, per_item, measured):
            remember_cost(region.label, per_item)
            rest = items if is_list_like(items) else iterator
            return Started(values, rest, len(values), spent)
        if size is not None:
            per_chunk = max(1, min(int(CHUNK_SECONDS / max(per_item, 1e-9)), 1 << 16))
    if measured_items:
        remember_cost(region.label, measured / measured_items)
    return Started(values, None, len(values), spent)


def _handed_over(
    region: RegionRecord,
    items: Iterable[Any],
    iterator: Iterator[Any],
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    values: list[Any],
    spent: float,
    handover: Handover,
) -> Started:
    """Workers were forked while items ran here: the items up to those sent to them run
    here, the rest is theirs."""
    gap = handover.sent_from - len(values)
    if gap > 0:
        started = time.perf_counter()
        _apply(region, kernel, repl, itertools.islice(iterator, gap), values)
        spent += time.perf_counter() - started
    rest = items if is_list_like(items) else iterator
    return Started(values, rest, len(values), spent)


def _first(items: Iterable[Any], size: int | None) -> Any:
    """The call's first item again, for measuring how it travels (a list's; a generator's
    is gone, and its cost is measured on the value alone)."""
    if size is not None and is_list_like(items):
        return items[0]  # type: ignore[index]
    return None


def _apply(
    region: RegionRecord,
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    chunk: Iterable[Any],
    values: list[Any],
) -> None:
    """The kernel over ``chunk``, values appended; a failure carries the note a worker's
    failure carries, naming the item by its position in the region."""
    append = values.append
    item: Any = None
    try:
        for item in chunk:
            append(kernel(item, *repl))
    except Exception as error:
        error.add_note(
            failure_note(region, len(values), describe_item(kernel, repl, item))
        )
        raise
