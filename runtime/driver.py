"""The one loop every batch engine shares (local processes, Spark jobs, Docker containers).

The driver pulls batches from a feed, sized from the measured cost per item, keeps a bounded
window of them in flight, and replays the outcomes in input order as they complete: stdout
is what the sequential program prints, and the first failing item (in input order) fails the
run after the output of the items before it. An engine says only how a batch reaches its
workers and how an outcome comes back (``submit``, ``receive``), and optionally how to see a
dead worker (``check``), how to replace its workers (``restart``) and what to do when the run
ends (``stop``).

A lost worker is not the kernel's failure: the batches it held are run again on fresh
workers, as Hadoop and Spark re-run a failed task attempt, up to the region's
``max_attempts``; what a lost attempt printed or returned never reached the driver, so every
item's output still appears once, in input order. A kernel's own exception is never retried.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from .outcomes import (
    Done,
    Failed,
    Outcome,
    PatternSteps,
    WorkerLostError,
    replay_outcome,
)
from .output import ProducerFeed, SequenceFeed
from .placement import record_timing
from .semantics import SEQUENCE_TYPES, RegionRecord, is_list_like

RECEIVE_SECONDS = (
    0.2  # how long the driver waits for an outcome before checking workers
)
SMOOTHING = 0.3  # weight of the newest measurement in the running cost per item


def feed_for(
    region: RegionRecord,
    steps: PatternSteps,
    items: Iterable[Any],
    as_ranges: bool = False,
    offset: int = 0,
) -> ProducerFeed:
    """Where a region's batches come from: a list, tuple or range is cut as it is (but a
    producer-consumer region streams even a list through its producer step); anything else
    is pulled lazily, what its production prints recorded under the item it produced.
    ``offset``: the region's first ``offset`` items ran already (a list's are skipped; an
    iterator's next item is item ``offset``)."""
    if is_list_like(items) and region.pattern != "producer-consumer":
        return SequenceFeed(items, as_ranges, offset)  # type: ignore[arg-type]
    if offset and is_list_like(items):
        items = itertools.islice(items, offset, None)
    feed = ProducerFeed(steps.source(items), not isinstance(items, SEQUENCE_TYPES))
    feed.next_index = offset
    return feed


def list_pieces(
    region: RegionRecord, size: int, workers: int, per_worker: int, bag: int
) -> int:
    """How many pieces a list of ``size`` items is cut into for ``workers`` workers: a few
    per worker (``per_worker``), to balance uneven items; for a bag of tasks one task per
    piece, up to ``bag`` per worker."""
    wanted = workers * (bag if region.pattern == "bag-of-tasks" else per_worker)
    return max(1, min(size, wanted))


T = TypeVar("T")


class WorkerLost(Exception):
    """Raised by an engine's ``check``: workers have died. ``causes`` maps the number of
    each batch a dead worker was running to why it died ("killed by SIGKILL"); a worker that
    died between batches held none."""

    def __init__(self, causes: dict[int, str], deaths: list[str]) -> None:
        super().__init__(", ".join(deaths))
        self.causes, self.deaths = causes, deaths


class MadeOnce(Generic[T]):
    """A value made at its first use, once per program, whichever thread asks first (the
    Spark session, the Docker engine of a run)."""

    def __init__(self) -> None:
        self.value: T | None = None
        self.lock = threading.Lock()

    def get(self, make: Callable[[], T]) -> T:
        with self.lock:
            if self.value is None:
                self.value = make()
            return self.value


class BatchSizer:
    """How many items the next batch takes: enough for ``target_seconds`` of work at the
    measured cost per item (``first`` before anything is measured), at most ``most`` items
    and ``max_bytes`` of pickled items, at least ``least``. With ``balance_over`` workers
    and a known ``total``, the last batches are cut smaller so that no worker idles at the
    end, but never below ``min_seconds`` of work. ``fixed``: every batch that size."""

    def __init__(
        self,
        target_seconds: float = 0.05,
        first: int = 1,
        least: int = 1,
        most: int = 4096,
        max_bytes: float = 32 * 1024 * 1024,
        balance_over: int = 0,
        total: int | None = None,
        min_seconds: float = 0.002,
        fixed: int | None = None,
    ) -> None:
        self.target_seconds, self.first, self.least, self.most = (
            target_seconds,
            first,
            least,
            most,
        )
        self.max_bytes, self.balance_over, self.total = max_bytes, balance_over, total
        self.min_seconds, self.fixed = min_seconds, fixed
        self.per_item_seconds: float | None = None
        self.per_item_bytes = 0.0

    def measure(self, seconds: float, count: int) -> None:
        if count:
            cost, previous = seconds / count, self.per_item_seconds
            self.per_item_seconds = (
                cost
                if previous is None
                else (1 - SMOOTHING) * previous + SMOOTHING * cost
            )

    def measure_bytes(self, size: int, count: int) -> None:
        if count:
            self.per_item_bytes = size / count

    def size(self, next_index: int) -> int:
        if self.fixed is not None:
            return self.fixed
        if self.per_item_seconds is None:
            return self.first
        cost = max(self.per_item_seconds, 1e-9)
        wanted = self.target_seconds / cost
        if self.balance_over and self.total is not None:
            remaining = self.total - next_index
            balanced = math.ceil(remaining / (self.balance_over * 4))
            wanted = min(wanted, max(balanced, self.min_seconds / cost))
        if self.per_item_bytes:
            wanted = min(wanted, self.max_bytes / self.per_item_bytes)
        return max(self.least, min(self.most, int(wanted)))


R = TypeVar("R", bound=RegionRecord)


class Driver(Generic[R]):
    """One region's run: feed, window, ordered replay. Engines subclass it, each for its
    own region record ``R`` (whose settings the hooks read)."""

    sizer: BatchSizer  # the run's, from ``run``: ``submit`` may measure bytes with it
    # the main process runs batches itself, as one more worker, whenever the window of
    # batches in flight is full and no answer is waiting (``run_here``)
    here = False

    def __init__(self, region: R, steps: PatternSteps, window: int) -> None:
        self.region, self.steps, self.window = region, steps, window

    # -- the hooks ------------------------------------------------------------------------
    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        """Send batch ``number`` (its first item is item ``start`` of the region)."""
        raise NotImplementedError

    def receive(self, timeout: float) -> Outcome | None:
        """The outcome of any batch sent, or None after ``timeout`` seconds."""
        raise NotImplementedError

    def check(self, batches: int, first: int, last: int) -> None:
        """Nothing came for a while: raise ``WorkerLost`` if a worker has died (or an
        engine's own error) while ``batches`` batches, items ``first`` to ``last``, were sent
        and not replayed."""

    def restart(self, unanswered: set[int], lost: set[int]) -> set[int] | None:
        """Replace the dead workers after ``WorkerLost``; the batches to send again: those
        the dead held (``lost``) or, when the engine cannot tell what its live workers
        hold, every batch not answered. None: this engine cannot, the run fails at once."""
        return None

    def run_here(self, number: int, batch: Sequence[Any]) -> Outcome:
        """Run batch ``number`` in this process (with ``here`` set)."""
        raise NotImplementedError

    def stop(self, finished: bool) -> None:
        """The run ended, well (``finished``) or by a failure or Ctrl-C."""

    def room(self, in_flight: int, waiting: int) -> bool:
        """May another batch be sent, with ``in_flight`` sent and not answered and
        ``waiting`` answered but waiting for an earlier one? Waiting results stay few:
        a slow batch never lets the others pile up here."""
        return in_flight < self.window and waiting < self.window * 4

    # -- the loop -------------------------------------------------------------------------
    def run(
        self,
        feed: ProducerFeed,
        sizer: BatchSizer,
        total: int | None,
        sent_already: Sequence[tuple[int, Sequence[Any]]] = (),
    ) -> list[Any]:
        """Every item of ``feed`` through the workers in batches ``sizer`` sizes; the
        values in input order (``total``: the item count shown by the progress line).
        ``sent_already``: batches 0, 1, ... submitted before the run (each its first item's
        number and the batch), which come before the feed's items."""
        self.sizer = sizer
        progress = Progress(self.region.label, total)
        ordered: list[Any] = []
        waiting: dict[int, Outcome] = {}  # received, waiting for earlier batches
        sent_batches: dict[int, tuple[int, Sequence[Any]]] = {}  # not yet answered
        starts: dict[int, int] = {}
        attempts: dict[int, list[str]] = {}  # batch -> why each lost attempt ended
        given_up: list[Outcome] = []  # batches that used every attempt, as failures
        sent = replayed = 0
        for start, batch in sent_already:
            starts[sent] = start
            sent_batches[sent] = (start, batch)
            sent += 1
        # items the engine ran in place before handing the rest over
        before = starts[0] if starts else feed.next_index
        failed = finished = False
        try:
            while True:
                while (
                    not feed.exhausted
                    and not failed  # the reference stops at the first failure: so do we
                    and self.room(len(sent_batches), len(waiting))
                ):
                    start = feed.next_index
                    batch = feed.pull(self.sizer.size(start))
                    if not batch:
                        break
                    starts[sent] = start
                    sent_batches[sent] = (start, batch)
                    self.submit(sent, start, batch)
                    sent += 1
                if replayed == sent:
                    break
                outcome = given_up.pop() if given_up else None
                if (
                    outcome is None
                    and self.here
                    and not feed.exhausted
                    and not failed
                    and len(waiting) < self.window * 4
                ):
                    # the window is full: answers first (they keep the workers fed), else
                    # a batch run here, as one more worker
                    outcome = self.receive(0.0)
                    if outcome is None:
                        start = feed.next_index
                        batch = feed.pull(self.sizer.size(start))
                        if batch:
                            starts[sent] = start
                            sent_batches[sent] = (start, batch)
                            outcome = self.run_here(sent, batch)
                            sent += 1
                if outcome is None:
                    outcome = self.receive(RECEIVE_SECONDS)
                if outcome is None:
                    first = starts.get(replayed, feed.next_index)
                    try:
                        self.check(sent - replayed, first, feed.next_index - 1)
                    except WorkerLost as lost:
                        given_up += self._retry(lost, sent_batches, attempts)
                    continue
                if sent_batches.pop(outcome.number, None) is None:
                    continue  # answered already: a batch sent again before its answer came
                waiting[outcome.number] = outcome
                if isinstance(outcome, Done):
                    self.sizer.measure(outcome.seconds, len(outcome.values))
                else:
                    failed = True
                while replayed in waiting:
                    replay_outcome(
                        self.region,
                        waiting.pop(replayed),
                        starts.pop(replayed),
                        ordered,
                        self.steps.merge,
                        feed,
                    )
                    replayed += 1
                    progress.update(before + len(ordered))
            finished = True
        finally:
            self.stop(finished)
        progress.finish(before + len(ordered))
        feed.finish()
        return ordered

    def _retry(
        self,
        lost: WorkerLost,
        sent_batches: dict[int, tuple[int, Sequence[Any]]],
        attempts: dict[int, list[str]],
    ) -> list[Outcome]:
        """Charge each batch a dead worker was running with an attempt, restart the workers
        and send the unanswered batches again; a batch that has used every attempt is not
        sent: it comes back as a failure (``WorkerLostError``), replayed in input order like
        a kernel's exception, so that an earlier item's exception still wins."""
        for number, cause in sorted(lost.causes.items()):
            if number in sent_batches:
                attempts.setdefault(number, []).append(cause)
        allowed = max(1, self.region.max_attempts)
        spent = {
            number
            for number, causes in attempts.items()
            if number in sent_batches and len(causes) >= allowed
        }
        given_up: list[Outcome] = [
            _given_up(
                number, self._gave_up(sent_batches[number], attempts[number], allowed)
            )
            for number in sorted(spent)
        ]
        pending = set(sent_batches) - spent
        again = self.restart(pending, set(lost.causes) & pending)
        if again is None:
            number = min(sent_batches, default=-1)
            causes = attempts.get(number) or lost.deaths
            held = sent_batches.get(number, (0, ()))
            message = self._gave_up(held, causes, len(causes))
            raise WorkerLostError(message) from None
        for number in sorted(again & pending):
            start, batch = sent_batches[number]
            if number in lost.causes:  # said on stderr: stdout stays the program's own
                sys.stderr.write(
                    f"toreador: {self.region.label}: items {start}..{start + len(batch) - 1} "
                    f"lost their worker ({attempts[number][-1]}); running them again, attempt "
                    f"{len(attempts[number]) + 1} of {allowed}\n"
                )
            self.submit(number, start, batch)
        return given_up

    def _gave_up(
        self, batch: tuple[int, Sequence[Any]], causes: list[str], allowed: int
    ) -> str:
        start, items = batch
        region = self.region
        each = "; ".join(f"attempt {i}: {cause}" for i, cause in enumerate(causes, 1))
        return (
            f"{region.label}: items {start}..{start + len(items) - 1} (kernel {region.kernel}) "
            f"lost their worker {len(causes)} time(s), the limit being max_attempts = "
            f"{allowed} (the deployment model's key): {each}"
        )


def _given_up(number: int, message: str) -> Failed:
    """A batch that lost its worker on every attempt, as the failure the replay raises."""
    return Failed(number, -1, "", WorkerLostError(message), "", {})


class Progress:
    """A one-line progress display on stderr, shown only once a run has lasted a while.
    With TOREADOR_TIMINGS naming a file, the moments of a region's first result and of its
    end are appended to it (what the benchmarks measure time to first result with)."""

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.started = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.enabled = os.environ.get("TOREADOR_PROGRESS", "auto") != "0"
        self.tty = sys.stderr.isatty()
        self.interval = 0.5 if self.tty else 10.0
        self.first_seen = False

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if done and not self.first_seen:
            self.first_seen = True
            record_timing(self.label, "first-result")
        if not self.enabled or (now - self.started < 2.0 and not self.shown):
            return
        if not final and now - self.last < self.interval:
            return
        self.last, self.shown = now, True
        total = "?" if self.total is None else str(self.total)
        line = (
            f"[toreador] {self.label}: {done}/{total} items, {now - self.started:.1f} s"
        )
        end = ("\n" if final else "\r") if self.tty else "\n"
        sys.stderr.write(line + end)
        sys.stderr.flush()

    def finish(self, done: int) -> None:
        if done and not self.first_seen:
            self.update(done)
        record_timing(self.label, "done")
        if self.shown:
            self.update(done, final=True)
