"""The local engine's worker processes: forked from the main program, kept between regions.

Why it looks the way it does:
- Workers are forked, so the kernel, the replicated arguments and any module state are
  inherited, not pickled; a list, tuple or range is inherited too, and workers are sent
  ranges of positions. Anything else is pulled lazily, a batch at a time.
- Workers outlive their region: the next region reuses them (its kernel and replicated
  arguments travel once per region, its items per batch) while the state they inherited
  is still the program's (``_ProcessState``); otherwise they are ended and new ones forked.
- Batches are sized from measured cost (about TARGET_BATCH_SECONDS each), so tiny items cost
  little per item and heavy items are spread one by one (see ``driver``).
- Inside a worker, a nested region runs sequentially: the machine's cores are already in use.

This module is imported only when a region first needs workers (``local``): a program whose
regions all run in place never pays for importing multiprocessing.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import itertools
import locale
import mmap
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import sysconfig
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import local
from .driver import BatchSizer, Driver, WorkerLost, feed_for
from .outcomes import (
    Outcome,
    PatternSteps,
    death_cause,
    pattern_steps,
    pickled_outcome,
    run_batch,
)
from .output import OutputRecorder, SequenceFeed
from .placement import forked, remember_cost, remembered_cost
from .semantics import RegionRecord, is_list_like
from .travel import pickled_batch

TARGET_BATCH_SECONDS = 0.05
# Balancing the end of a region cuts the last batches smaller, but never below this much
# work: a round trip to a worker costs about a tenth of a millisecond.
MIN_BATCH_SECONDS = 0.002
# ... or, for a region of a few milliseconds, below this (about two round trips).
SMALLEST_BATCH_SECONDS = 0.0002
MAX_BATCH = 4096
MAX_BATCH_BYTES = (
    8 * 1024 * 1024
)  # keeps a window of batches small when items are large
# A fork's full cost is about this many times the main process's own time in it: the
# children's start (copy-on-write faults) and their end run on the other cores.
FORK_FACTOR = 2.5
# A region's kernel and replicated arguments travel to kept workers only up to this size;
# larger ones (a big array) are inherited by workers forked for the region instead.
SETUP_LIMIT = 1024 * 1024


class _ForkCost:
    """What forking a set of workers costs this program, as last measured (it grows with
    the program's memory); before any fork, a typical figure for a small program here."""

    def __init__(self) -> None:
        self.seconds = local.FIRST_FORK_SECONDS

    def measure(self, seconds: float) -> None:
        self.seconds = 0.5 * self.seconds + 0.5 * FORK_FACTOR * seconds


_FORK_COST = _ForkCost()


def fork_seconds() -> float:
    """What forking a set of workers costs this program now (the last measurements)."""
    return _FORK_COST.seconds


def new_run(
    region: RegionRecord,
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    workers: int,
    kept: _Workers | None,
    setup: bytes | None,
    here: bool,
) -> _LocalRun:
    """A run of ``region`` on ``kept`` workers (sent ``setup``: the region's kernel and
    arguments) or on ``workers`` processes it forks, and with ``here`` in this process too."""
    steps = pattern_steps(region.pattern)
    run = _LocalRun(region, steps, kernel, repl, workers, kept, setup)
    run.here = here
    return run


class _TooLarge(Exception):
    pass


class _CappedBuffer(io.BytesIO):
    """Pickling stops as soon as the pickle would exceed SETUP_LIMIT."""

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > SETUP_LIMIT:
            raise _TooLarge
        return super().write(data)


def setup_bytes(kernel: Any, repl: tuple[Any, ...], pattern: str) -> bytes | None:
    """A region's kernel, replicated arguments and pattern as kept workers receive them;
    None when they cannot travel, or are large (new workers then inherit them)."""
    if any(getattr(value, "nbytes", 0) > SETUP_LIMIT for value in repl):
        return None  # an array: do not copy it just to find out
    buffer = _CappedBuffer()
    try:
        pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
            (kernel, repl, pattern)
        )
    except Exception:
        return None
    return buffer.getvalue()


# What the forked workers inherit: set just before they are forked, cleared after.
_INHERITED: (
    tuple[
        int,
        Callable[..., Any],
        tuple[Any, ...],
        Callable[..., list[Any]],
        Sequence[Any] | None,
    ]
    | None
) = None
_SETUP_NUMBERS = itertools.count(1)


@contextlib.contextmanager
def interrupt_after_fork() -> Iterator[None]:
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
    more, exit.

    A task names its region's setup: the one this worker was forked for (inherited), or a
    later region's, whose kernel and replicated arguments come pickled with the task and
    are read once, when the setup changes."""
    local.in_worker()
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C is the main program's to handle
    assert _INHERITED is not None
    current, kernel, repl, apply_batch, sequence = _INHERITED
    for other, (reader, writer) in enumerate(answers):
        reader.close()
        if other != slot:
            writer.close()
    answer = answers[slot][1]
    recorder = OutputRecorder()
    parent = os.getppid()
    while not running[-1]:
        message = tasks.get(timeout=1.0)
        if message is None:
            if os.getppid() != parent:  # the main program was killed: do not linger
                return
            continue
        task = pickle.loads(message)
        if task is None:
            return
        number, setup_number, payload, setup = task
        if setup_number != current:
            kernel, repl, pattern = pickle.loads(setup)
            apply_batch, sequence = pattern_steps(pattern).apply_batch, None
            current = setup_number
        running[slot] = number
        # a split of an inherited list arrives as (start, stop): the items never travel
        items: Sequence[Any] = pickle.loads(payload)
        if sequence is not None:
            items = sequence[items[0] : items[1]]
        outcome = run_batch(number, apply_batch, kernel, repl, items, recorder)
        answer.send_bytes(pickled_outcome(outcome, items))
        running[slot] = -1


class _ProcessState:
    """What a kept worker inherited at its fork and a kernel may read, in a form compared
    cheaply before each region: the working directory, the environment, sys.path, the
    recursion limit, the decimal context, warning filters, the locale, numpy's print
    options, and the identity of every module-level value of the program's own modules
    (the shared module, the program's other modules: not the standard library's or
    installed packages', not the runtime's, not Main.py's, which kernels never read), with
    what a small list, dict or set holds. The compiler refuses a program whose main part
    rebinds or changes a global its kernels use in the shared module; what it cannot see
    (``settings.SCALE = 3`` on another module of the program, ``os.environ``, ``os.chdir``)
    is seen here, and new workers are forked. Not seen: a change deep inside a module-level
    value (a list in a dict, a large list, an array changed in place) of another module."""

    def __init__(self) -> None:
        self.modules = _program_modules()
        self.value = self.now()

    def now(self) -> tuple[Any, ...]:
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = ""
        decimals = sys.modules.get("decimal")
        numpy = sys.modules.get("numpy")
        return (
            cwd,
            dict(getattr(os.environ, "_data", os.environ)),  # bytes: nothing decoded
            tuple(sys.path),
            sys.getrecursionlimit(),
            repr(decimals.getcontext()) if decimals is not None else None,
            tuple(map(id, warnings.filters)),
            locale.setlocale(locale.LC_ALL),
            repr(getattr(numpy, "get_printoptions", lambda: None)()),
            tuple(_fingerprint(vars(module)) for module in self.modules),
        )

    def unchanged(self) -> bool:
        return self.now() == self.value


# A module-level list, dict or set up to this size is compared by its contents' identities
# too: ``settings.LIMITS[0] = 5`` in the main program must reach the workers.
SMALL_CONTAINER = 1000


def _fingerprint(namespace: dict[str, Any]) -> tuple[Any, ...]:
    """A module's values by identity; a small list, dict or set also by what it holds."""
    parts: list[Any] = []
    for value in namespace.values():
        parts.append(id(value))
        kind = type(value)
        if kind in (list, dict, set) and len(value) <= SMALL_CONTAINER:
            if kind is dict:
                parts.append((tuple(map(id, value)), tuple(map(id, value.values()))))
            elif kind is list:
                parts.append(tuple(map(id, value)))
            else:
                parts.append(frozenset(map(id, value)))
    return tuple(parts)


def _program_modules() -> list[Any]:
    """The program's own modules: loaded from outside the interpreter's library folders,
    other than the runtime and __main__. Whether a module is the program's is decided once
    per module name (resolving its path is what costs: 20 ms over pandas' 600 modules, and
    this runs at every fork and every early-fork timer's ring)."""
    found = []
    for name, module in list(sys.modules.items()):
        own = _OWN.get(name)
        if own is None:
            own = _OWN[name] = _is_own(name, module)
        if own and getattr(module, "__name__", None) != "__main__":
            found.append(module)
    return found


def _is_own(name: str, module: Any) -> bool:
    origin = getattr(module, "__file__", None)
    runtime = name == _RUNTIME[:-1] or name.startswith((_RUNTIME, "toreador."))
    if not origin or name == "__main__" or runtime:
        return False
    if not _LIBRARY:
        paths = sysconfig.get_paths()
        folders = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")]
        _LIBRARY.extend(
            {path + os.sep for path in [*folders, *map(os.path.realpath, folders)]}
        )
    library = tuple(_LIBRARY)
    # a path as imported is nearly always the library's own spelling: resolve only others
    return not (
        origin.startswith(library) or os.path.realpath(origin).startswith(library)
    )


_OWN: dict[str, bool] = {}  # module name -> whether it is the program's own
_LIBRARY: list[str] = []  # the interpreter's library folders, resolved once
_RUNTIME = __name__.rpartition(".")[0] + "."


class _TaskPipe:
    """The workers' task channel: one pipe they share, read under a lock, written by the
    main process directly, with no feeder thread (a thread's wake-up cost a region on
    kept workers a millisecond).

    A write must never wait for a worker: a worker may itself be waiting for the main
    process to read its answer. So the tasks sent and not yet answered are kept within
    BUDGET bytes, less than the pipe holds; a task that does not fit waits here and goes
    when an answer frees room (one larger than the whole budget goes when nothing else is
    in flight: every worker is then free to read it)."""

    BUDGET = 56 * 1024  # of the 64 KiB a Linux pipe holds: stop signals fit in the rest

    def __init__(self, context: Any) -> None:
        self.reader, self.writer = context.Pipe(duplex=False)
        self.lock = context.Lock()
        self.unanswered: dict[int, int] = {}  # task number -> bytes written
        self.backlog: list[tuple[int, bytes]] = []

    def send(self, number: int, task: bytes) -> None:
        self.backlog.append((number, task))
        self._flush()

    def answered(self, number: int) -> None:
        self.unanswered.pop(number, None)
        self._flush()

    def _flush(self) -> None:
        while self.backlog:
            number, task = self.backlog[0]
            held = sum(self.unanswered.values())
            if held and held + len(task) > self.BUDGET:
                return
            self.backlog.pop(0)
            self.unanswered[number] = self.unanswered.get(number, 0) + len(task)
            self.writer.send_bytes(task)

    def stop_signals(self, count: int) -> None:
        """One stop signal per worker: each a few bytes, in the room the budget leaves."""
        for _ in range(count):
            self.writer.send_bytes(_STOP)

    def get(self, timeout: float) -> bytes | None:
        """The next task, as one worker among several; None after ``timeout``."""
        if not self.lock.acquire(timeout=timeout):
            return None
        try:
            if not self.reader.poll(timeout):
                return None
            task: bytes = self.reader.recv_bytes()
            return task
        finally:
            self.lock.release()

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


_STOP = pickle.dumps(None)


@dataclass
class _Workers:
    """A set of forked workers with their task queue, their answer pipes and the shared
    slots that say which batch each runs; kept between regions (``_KEPT``) while the state
    they were forked with is still the program's."""

    processes: list[Any]
    tasks: _TaskPipe
    readers: list[Any]
    running: memoryview
    state: _ProcessState

    @property
    def size(self) -> int:
        return len(self.processes)

    def alive(self) -> bool:
        return all(process.exitcode is None for process in self.processes)

    def retire(self) -> None:
        """One stop signal each; the processes exit at once and are reaped later."""
        self.tasks.stop_signals(len(self.processes))
        _RETIRED.extend(self.processes)
        self.close()

    def end(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        self.close()

    def close(self) -> None:
        self.tasks.close()
        for reader in self.readers:
            reader.close()
        self.readers = []


# The workers kept from the last region, ready for the next one; how many sets were forked.
_KEPT: _Workers | None = None
_KEPT_LOCK = threading.Lock()


# Modules whose code holds a lock while it runs (a worker forked then would inherit the lock
# held, and wait for it forever): no fork while one of them is on the main thread's stack.
_HOLDS_LOCKS = (
    "threading",
    "logging",
    "functools",
    "queue",
    "importlib",
    "concurrent",
    "multiprocessing",
    "asyncio",
    "_weakrefset",
)


def safe_to_fork(frame: Any) -> bool:
    """Whether the main thread, stopped at ``frame`` by a timer in the middle of a kernel,
    may be forked: no module is half imported (a worker would find it without its names),
    no frame of a module that holds locks is running, no lock of the program's own modules
    is held."""
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        if spec is not None and getattr(spec, "_initializing", False):
            return False
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.split(".", 1)[0] in _HOLDS_LOCKS:
            return False
        frame = frame.f_back
    for module in _program_modules():
        for value in list(vars(module).values()):
            locked = getattr(value, "locked", None)
            if (
                type(value).__name__ in ("lock", "RLock")
                and callable(locked)
                and locked()
            ):
                return False
    return True


def has_kept() -> bool:
    """Whether workers are kept (alive and current or not: ``take_kept`` checks)."""
    return _KEPT is not None


def take_kept() -> _Workers | None:
    """The kept workers, if they are alive and their state is still the program's: taken,
    so that a region run from another thread at the same time forks its own."""
    global _KEPT
    with _KEPT_LOCK:
        kept, _KEPT = _KEPT, None
    if kept is None:
        return None
    if kept.alive() and kept.state.unchanged():
        return kept
    kept.retire()
    return None


def keep(workers: _Workers | None) -> None:
    """Keep ``workers`` for the next region (another thread's may already be kept)."""
    global _KEPT
    if workers is None:
        return
    with _KEPT_LOCK:
        if _KEPT is None:
            _KEPT = workers
            return
    workers.retire()


@atexit.register
def _stop_kept() -> None:
    """At the program's end, the kept workers are told to stop (they exit at once)."""
    kept = take_kept()
    if kept is not None:
        kept.retire()


def forks_so_far() -> int:
    """How many sets of workers this program has forked (for tests and the run report)."""
    return _FORKS_DONE[0]


_FORKS_DONE = [0]


class _LocalRun(Driver[RegionRecord]):
    """One region run over forked (or kept) workers, a bounded task queue and the ordered
    replay."""

    def __init__(
        self,
        region: RegionRecord,
        steps: PatternSteps,
        kernel: Callable[..., Any],
        repl: tuple[Any, ...],
        workers: int,
        kept: _Workers | None,
        setup: bytes | None,
    ) -> None:
        super().__init__(region, steps, workers * 2)
        self.kernel, self.repl, self.workers = kernel, repl, workers
        self.context = multiprocessing.get_context("fork")
        self.pool = kept
        self.setup = setup if kept is not None else None
        self.setup_number = next(_SETUP_NUMBERS)
        self.sequence: Sequence[Any] | None = None  # the inherited list, if any
        self.early: list[Outcome] = []  # answers read while replacing a dead worker
        self.recorder = OutputRecorder()  # what batches run here print, as in a worker
        self.first_batches: list[tuple[int, Sequence[Any]]] = []  # see ``send_first``

    # the kept or forked set's parts, as the driver's hooks use them
    @property
    def processes(self) -> list[Any]:
        assert self.pool is not None
        return self.pool.processes

    @property
    def tasks(self) -> _TaskPipe:
        assert self.pool is not None
        return self.pool.tasks

    @property
    def readers(self) -> list[Any]:
        assert self.pool is not None
        return self.pool.readers

    @property
    def running(self) -> memoryview:
        assert self.pool is not None
        return self.pool.running

    def fork_now(self, items: Iterable[Any]) -> None:
        """Fork this run's workers before its items are handed over (while the first ones
        still run in place): they inherit ``items`` if it is a list to cut."""
        if is_list_like(items) and self.region.pattern != "producer-consumer":
            self.sequence = items  # type: ignore[assignment]
        self._fork_workers()

    def start(self, items: Iterable[Any], offset: int, size: int | None) -> list[Any]:
        """Items from ``offset`` on (those before it ran in place). Forked workers inherit a
        list, tuple or range and are sent index ranges; kept workers are sent the items; the
        producer-consumer pattern streams its items through the queue."""
        fork = self.pool is None
        ranges = fork or self.sequence is not None
        if self.first_batches:  # sent already: the feed begins after them
            assert self.first_batches[0][0] == offset
            offset += len(self.first_batches)
        feed = feed_for(self.region, self.steps, items, as_ranges=ranges, offset=offset)
        if fork and isinstance(feed, SequenceFeed):
            self.sequence = feed.items
        # the cost per item measured in place (or on the region's last call) sizes the
        # first batches; a small region is cut into at least two batches per worker
        per_item = remembered_cost(self.region.label)
        smallest = MIN_BATCH_SECONDS
        if per_item is not None and size is not None:
            work = per_item * (size - offset)
            smallest = min(
                smallest,
                max(SMALLEST_BATCH_SECONDS, work / (2 * (self.workers + self.here))),
            )
        sizer = BatchSizer(
            TARGET_BATCH_SECONDS,
            most=MAX_BATCH,
            max_bytes=MAX_BATCH_BYTES,
            balance_over=self.workers + self.here,
            total=size,
            min_seconds=smallest,
        )
        sizer.per_item_seconds = per_item
        _reap_retired()
        if fork:
            self._fork_workers()
        values = self.run(feed, sizer, size, self.first_batches)
        remember_cost(self.region.label, sizer.per_item_seconds)
        return values

    def _fork_workers(self) -> None:
        """New channels and ``workers`` processes forked from this one, as it is now."""
        global _INHERITED
        started = time.perf_counter()
        tasks = _TaskPipe(self.context)
        # one pipe per worker for its answers, all made before any worker is forked
        answers = [self.context.Pipe(duplex=False) for _ in range(self.workers)]
        # one slot per worker: the batch it is running, or -1 (shared memory, written per
        # batch); then the flag that tells the workers to take nothing more
        running = memoryview(mmap.mmap(-1, 8 * (self.workers + 1))).cast("q")
        for slot in range(self.workers):
            running[slot] = -1
        running[-1] = 0
        state = _ProcessState()
        sys.stdout.flush()
        sys.stderr.flush()
        _INHERITED = (
            self.setup_number,
            self.kernel,
            self.repl,
            self.steps.apply_batch,
            self.sequence,
        )
        processes = [
            self.context.Process(
                target=_worker_main, args=(tasks, answers, running, slot), daemon=True
            )
            for slot in range(self.workers)
        ]
        self.pool = _Workers(
            processes, tasks, [reader for reader, _ in answers], running, state
        )
        self.setup = None  # these workers inherit this region's setup
        try:
            with interrupt_after_fork():
                for process in processes:
                    process.start()
        finally:
            _INHERITED = None
            for _, writer in answers:  # each worker holds its own: its death is an EOF
                writer.close()
        _FORKS_DONE[0] += 1
        forked()
        _FORK_COST.measure(time.perf_counter() - started)

    def run_here(self, number: int, batch: Sequence[Any]) -> Outcome:
        """A batch run in this process, its output recorded and replayed in order like a
        worker's; a region nested in its kernel runs in place (the cores are in use)."""
        items = batch
        if self.sequence is not None:
            assert isinstance(batch, range)
            items = self.sequence[batch.start : batch.stop]
        previous = local.in_worker()
        try:
            return run_batch(
                number,
                self.steps.apply_batch,
                self.kernel,
                self.repl,
                items,
                self.recorder,
            )
        finally:
            local.in_worker(previous)

    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        if (
            self.sequence is not None
        ):  # a split of the inherited list: only its bounds travel
            assert isinstance(batch, range)
            bounds = pickle.dumps((batch.start, batch.stop))
            self.tasks.send(
                number, pickle.dumps((number, self.setup_number, bounds, None))
            )
            return
        payload = pickled_batch(self.region.label, batch, start, "a worker process")
        self.sizer.measure_bytes(
            len(payload), len(batch)
        )  # bounds the next batch's size
        task = (number, self.setup_number, payload, self.setup)
        self.tasks.send(number, pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL))

    def receive(self, timeout: float) -> Outcome | None:
        """An answer from any worker; a worker's pipe at its end (the worker died, maybe
        half-way through an answer) is dropped: ``check`` sees the death."""
        if self.early:
            return self.early.pop(0)
        for reader in multiprocessing.connection.wait(self.readers, timeout):
            try:
                outcome: Outcome = pickle.loads(reader.recv_bytes())  # type: ignore[union-attr]
                self.tasks.answered(
                    outcome.number
                )  # room for a task waiting to be sent
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
        self.tasks.stop_signals(len(self.processes))  # wakes the idle workers at once
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
        assert self.pool is not None
        self.pool.close()
        self._fork_workers()  # they inherit this region's kernel and arguments
        return unanswered - {outcome.number for outcome in self.early}

    @property
    def inherits(self) -> bool:
        """The workers inherited the region's list: its items are sent as positions."""
        return self.sequence is not None

    def send_first(self, start: int, count: int) -> None:
        """Send the workers forked early the items from ``start`` on, one a batch (their
        cost is not known yet, only that it is not small): batches 0 to ``count`` - 1 of
        the run ``start`` then begins with."""
        for number in range(count):
            batch = range(start + number, start + number + 1)
            self.submit(number, start + number, batch)
            self.first_batches.append((start + number, batch))

    def abandon(self) -> None:
        """The call failed before its items were handed over: the workers are ended."""
        assert self.pool is not None
        self.pool.end()

    def keep(self) -> None:
        """Workers forked for this run, none of whose batches was sent: kept for the next
        regions (they know this region's setup; the next region's travels)."""
        assert self.pool is not None
        keep(self.pool)

    def stop(self, finished: bool) -> None:
        """A finished run keeps its workers for the next region (nothing of this region is
        left with them: every batch was answered). After a failure or Ctrl-C the workers
        may still hold queued batches: they are ended."""
        assert self.pool is not None
        if finished and not self.early and self.pool.alive():
            keep(self.pool)
        else:
            self.pool.end()


# Workers of earlier sets, told to stop, not yet waited for.
_RETIRED: list[Any] = []


def _reap_retired() -> None:
    """Collect the workers of earlier sets that have exited; wait only if many have not
    (they exit at once; one stuck for seconds is ended)."""
    _RETIRED[:] = [process for process in _RETIRED if process.exitcode is None]
    while len(_RETIRED) > 8:
        process = _RETIRED.pop(0)
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join()
