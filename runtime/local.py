"""The local engine: runs a parallel region in forked worker processes on this machine.

Why it looks the way it does:
- Workers are forked when a region starts, so the kernel, the replicated arguments and any
  module state are inherited, not pickled; only items and results cross a pipe.
- A list, tuple or range is inherited too: workers are sent ranges of positions, so the
  main process does no work per item. Anything else is pulled lazily, a batch at a time.
- Batches are sized from measured cost (about TARGET_BATCH_SECONDS each), so tiny items cost
  little per item and heavy items are spread one by one (see ``driver``).
- Inside a worker, a nested region runs sequentially: the machine's cores are already in use.
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .driver import BatchSizer, Driver, WorkerLost, feed_for
from .outcomes import (
    Outcome,
    PatternSteps,
    WorkerLostError,
    death_cause,
    pattern_steps,
    pickled_outcome,
    run_batch,
)
from .output import OutputRecorder, SequenceFeed
from .semantics import (
    SEQUENCE_TYPES,
    PrimitiveUsageError,
    RegionRecord,
    region_items,
    run_in_place,
    run_region,
    worker_count,
)
from .travel import pickled_batch

__all__ = [
    "PrimitiveUsageError",
    "Region",
    "WorkerLostError",
    "run_nested",
    "run_region",
]

TARGET_BATCH_SECONDS = 0.05
# Balancing the end of a region cuts the last batches smaller, but never below this much
# work: a round trip to a worker costs about a tenth of a millisecond.
MIN_BATCH_SECONDS = 0.002
MAX_BATCH = 4096
MAX_BATCH_BYTES = (
    8 * 1024 * 1024
)  # keeps a window of batches small when items are large
_IN_WORKER = False


@dataclass(frozen=True)
class Region(RegionRecord):
    """A region run by worker processes forked from this one."""

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
        steps = pattern_steps(self.pattern)
        workers = min(workers, size or workers)
        return _LocalRun(self, steps, kernel, repl, workers).start(items, size)


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
    return "fork" in multiprocessing.get_all_start_methods()


# What the forked workers inherit: set just before they are forked, cleared after the run.
_INHERITED: (
    tuple[
        Callable[..., Any],
        tuple[Any, ...],
        Callable[..., list[Any]],
        Sequence[Any] | None,
    ]
    | None
) = None


@contextlib.contextmanager
def _interrupt_after_fork() -> Iterator[None]:
    """Ctrl-C while workers are forked is raised after the forks, not during them: in
    Python's own after-fork hooks a KeyboardInterrupt is printed and dropped ("Exception
    ignored"), and the program went on as if Ctrl-C had never been pressed."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are the main thread's; it is not forking here
        return
    pressed: list[bool] = []
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def _worker_main(tasks: Any, answers: list[Any], running: Any, slot: int) -> None:
    """A worker's loop: take a batch, note its number in ``running[slot]`` (so that the
    main process knows which batch to run again if this process dies), run it, answer on
    its own pipe, ``answers[slot]``: the others' are closed here, so that a worker that
    dies mid-answer leaves the main process an end of file, not a half message. The last
    entry of ``running`` is set while the main process replaces a dead worker: take nothing
    more, exit."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C is the main program's to handle
    assert _INHERITED is not None
    kernel, repl, apply_batch, sequence = _INHERITED
    for other, (reader, writer) in enumerate(answers):
        reader.close()
        if other != slot:
            writer.close()
    answer = answers[slot][1]
    recorder = OutputRecorder()
    parent = os.getppid()
    while not running[-1]:
        try:
            task = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the main program was killed: do not linger
                return
            continue
        if task is None:
            return
        number, payload = task[0], pickle.loads(task[1])
        running[slot] = number
        # a split of an inherited list arrives as (start, stop): the items never travel
        items: Sequence[Any] = payload
        if isinstance(payload, tuple) and sequence is not None:
            items = sequence[payload[0] : payload[1]]
        outcome = run_batch(number, apply_batch, kernel, repl, items, recorder)
        answer.send_bytes(pickled_outcome(outcome, items))
        running[slot] = -1


class _LocalRun(Driver[Region]):
    """One region run over forked workers, a bounded task queue and the ordered replay."""

    def __init__(
        self,
        region: Region,
        steps: PatternSteps,
        kernel: Callable[..., Any],
        repl: tuple[Any, ...],
        workers: int,
    ) -> None:
        super().__init__(region, steps, workers * 2)
        self.kernel, self.repl, self.workers = kernel, repl, workers
        self.context = multiprocessing.get_context("fork")
        self.tasks: Any = None
        self.readers: list[Any] = []  # the workers' answer pipes, still open
        self.sequence: Sequence[Any] | None = None  # the inherited list, if any
        self.running = memoryview(b"")
        self.processes: list[Any] = []
        self.early: list[Outcome] = []  # answers read while replacing a dead worker

    def start(self, items: Iterable[Any], size: int | None) -> list[Any]:
        # A list, tuple or range is inherited by the forked workers, which are then sent
        # index ranges; the producer-consumer pattern streams its items through the queue.
        feed = feed_for(self.region, self.steps, items, as_ranges=True)
        sequence = feed.items if isinstance(feed, SequenceFeed) else None
        sizer = BatchSizer(
            TARGET_BATCH_SECONDS,
            most=MAX_BATCH,
            max_bytes=MAX_BATCH_BYTES,
            balance_over=self.workers,
            total=size,
            min_seconds=MIN_BATCH_SECONDS,
        )
        _reap_retired()
        self.sequence = sequence
        self._fork_workers()
        return self.run(feed, sizer, size)

    def _fork_workers(self) -> None:
        """New channels and ``workers`` processes forked from this one, as it is now."""
        global _INHERITED
        self.tasks = (
            _RangeChannel(self.context)
            if self.sequence is not None
            else self.context.Queue(maxsize=self.window)
        )
        # one pipe per worker for its answers, all made before any worker is forked
        answers = [self.context.Pipe(duplex=False) for _ in range(self.workers)]
        self.readers = [reader for reader, _ in answers]
        # one slot per worker: the batch it is running, or -1 (shared memory, written per
        # batch); then the flag that tells the workers to take nothing more
        self.running = memoryview(mmap.mmap(-1, 8 * (self.workers + 1))).cast("q")
        for slot in range(self.workers):
            self.running[slot] = -1
        self.running[-1] = 0
        sys.stdout.flush()
        sys.stderr.flush()
        _INHERITED = (self.kernel, self.repl, self.steps.apply_batch, self.sequence)
        self.processes = [
            self.context.Process(
                target=_worker_main,
                args=(self.tasks, answers, self.running, slot),
                daemon=True,
            )
            for slot in range(self.workers)
        ]
        try:
            with _interrupt_after_fork():
                for process in self.processes:
                    process.start()
        finally:
            _INHERITED = None
            for _, writer in answers:  # each worker holds its own: its death is an EOF
                writer.close()

    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        if isinstance(
            batch, range
        ):  # a split of the inherited list: only its bounds travel
            self.tasks.put((number, pickle.dumps((batch.start, batch.stop))))
            return
        payload = pickled_batch(self.region.label, batch, start, "a worker process")
        self.sizer.measure_bytes(
            len(payload), len(batch)
        )  # bounds the next batch's size
        self.tasks.put((number, payload))

    def receive(self, timeout: float) -> Outcome | None:
        """An answer from any worker; a worker's pipe at its end (the worker died, maybe
        half-way through an answer) is dropped: ``check`` sees the death."""
        if self.early:
            return self.early.pop(0)
        for reader in multiprocessing.connection.wait(self.readers, timeout):
            try:
                outcome: Outcome = pickle.loads(reader.recv_bytes())  # type: ignore[union-attr]
                return outcome
            except (EOFError, OSError):
                self.readers.remove(reader)
                reader.close()  # type: ignore[union-attr]
        return None

    def check(self, batches: int, first: int, last: int) -> None:
        """A dead worker: stop the others (see ``_drain``), then name the batches lost,
        those a worker was running when it ended and never answered."""
        if all(process.exitcode is None for process in self.processes):
            return
        answered = self._drain()
        causes: dict[int, str] = {}
        deaths: list[str] = []
        for slot, process in enumerate(self.processes):
            code = process.exitcode if process.exitcode is not None else -signal.SIGKILL
            held = self.running[slot]
            if held >= 0 and held not in answered:
                causes[held] = death_cause(code)
            if code != 0:
                deaths.append(death_cause(code))
        raise WorkerLost(causes, deaths)

    def _drain(self) -> set[int]:
        """Let the live workers finish the batch each is running, take nothing more and
        exit, and keep every answer written, the dead's too (it may have answered before it
        died): the numbers of those batches. Ending the live workers at once would run
        again a batch that had already failed, and a kernel's exception is not retried.
        (A dead worker may hold the task channel's lock: the others notice the flag
        within a second.)"""
        self.running[-1] = 1
        for _ in self.processes:  # wakes the idle workers at once
            try:
                self.tasks.put(None, timeout=0.0)
            except queue.Full:
                break
        while self.readers:
            ready = multiprocessing.connection.wait(self.readers, 1.0)
            if not ready and all(p.exitcode is not None for p in self.processes):
                break  # exited, yet a pipe is open: a child the kernel started holds it
            for reader in ready:
                try:
                    self.early.append(pickle.loads(reader.recv_bytes()))  # type: ignore[union-attr]
                except (EOFError, OSError):
                    self.readers.remove(reader)
                    reader.close()  # type: ignore[union-attr]
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
        return {outcome.number for outcome in self.early}

    def restart(self, unanswered: set[int], lost: set[int]) -> set[int] | None:
        """Fork a new set of workers from this process, as it is now (``check`` has let
        the old ones finish and exit): every batch neither answered nor running when they
        stopped is sent again (a dead worker may have taken one from the channel and died
        before noting it)."""
        self._close_channels()
        self._fork_workers()
        return unanswered - {outcome.number for outcome in self.early}

    def _end_workers(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        self._close_channels()

    def _close_channels(self) -> None:
        self.tasks.cancel_join_thread()
        self.tasks.close()
        for reader in self.readers:
            reader.close()
        self.readers = []

    def stop(self, finished: bool) -> None:
        """End the workers: one stop signal each after a finished run, at once otherwise.

        Every worker gets its own signal, whether or not it looks alive: a worker that took
        another's signal and exited must not leave the other waiting for one that never
        comes. A finished run does not wait for its workers to exit (tearing down a forked
        copy of a large program takes milliseconds): they are reaped when the next region
        starts. After a failure or Ctrl-C the workers may still hold queued batches: they
        are ended.
        """
        if finished:
            for _ in self.processes:
                try:
                    self.tasks.put(None, timeout=1.0)
                except queue.Full:
                    finished = False
                    break
        if finished:
            _RETIRED.extend(self.processes)
            self._close_channels()
        else:
            self._end_workers()


class _RangeChannel:
    """The task channel of a region over an inherited list: a pipe the workers share.

    Its tasks are a few dozen bytes each (a batch number and a range of positions), and the
    driver keeps at most ``window`` of them in flight, so a write never waits for a worker.
    A ``multiprocessing.Queue`` would start a feeder thread in the main process for every
    region: about a millisecond a region on two cores, where a loop runs many small regions.
    A region whose items travel keeps the queue: a large batch must not block the main
    process while its workers are busy (or dead).
    """

    def __init__(self, context: Any) -> None:
        self.reader, self.writer = context.Pipe(duplex=False)
        self.lock = context.Lock()

    def put(self, task: tuple[int, bytes] | None, timeout: float | None = None) -> None:
        self.writer.send_bytes(pickle.dumps(task))

    def get(self, timeout: float) -> tuple[int, bytes] | None:
        """The next task, as one worker among several; ``queue.Empty`` after ``timeout``."""
        if not self.lock.acquire(timeout=timeout):
            raise queue.Empty
        try:
            if not self.reader.poll(timeout):
                raise queue.Empty
            task: tuple[int, bytes] | None = pickle.loads(self.reader.recv_bytes())
            return task
        finally:
            self.lock.release()

    def cancel_join_thread(self) -> None:
        """Nothing to cancel: the pipe has no feeder thread (the queue's interface)."""

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


# Workers of finished regions, told to stop, not yet waited for.
_RETIRED: list[Any] = []


def _reap_retired() -> None:
    """Collect the workers of earlier regions that have exited; wait only if many have not
    (they exit at once; one stuck for seconds is ended)."""
    _RETIRED[:] = [process for process in _RETIRED if process.exitcode is None]
    while len(_RETIRED) > 8:
        process = _RETIRED.pop(0)
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join()
