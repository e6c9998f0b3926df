"""A batch's run where the kernels run, and its ordered replay in the main program.

Every engine runs the pattern's step over a batch of items in a worker and answers with an
outcome: ``Done`` (the values, what each item printed) or ``Failed`` (the first failing item:
the reference stops there too). The main program replays outcomes in input order: what was
printed, then the values; a failure is raised with notes naming the item. A worker that
dies answers nothing: the engine sees the death (``death_cause``) and runs its batch again,
until the region's attempts are used up (``WorkerLostError``).
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from .output import Output, OutputRecorder, ProducerFeed, logging_recorded, replay
from .process_state import unmet
from .semantics import RegionRecord, describe_item, failure_note, short_repr
from .travel import picklable, portable, received


class WorkerLostError(RuntimeError):
    """A batch lost its worker on every attempt the region allows: the run gives up."""


def death_cause(exit_code: int) -> str:
    """A process's end as a person reads it: the signal's name, or the exit status."""
    if exit_code < 0:
        try:
            return f"killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"killed by signal {-exit_code}"
    return f"exit status {exit_code}"


class Done(NamedTuple):
    """A batch whose every item ran: values in input order, what each item printed (by
    offset in the batch), and what the kernels wrote to stderr where it is not seen."""

    number: int
    values: list[Any]
    seconds: float
    printed: dict[int, Output]
    stderr: str = ""
    notes: str = ""  # what the worker could not set up as the main program is (once)


class Failed(NamedTuple):
    """A batch that stopped at its item ``offset``, with the kernel's exception; offset -1:
    the batch lost its worker on every attempt (the error is a ``WorkerLostError``)."""

    number: int
    offset: int
    item: str
    error: Any
    traceback: str
    printed: dict[int, Output]
    stderr: str = ""
    notes: str = ""


Outcome = Done | Failed


class PatternSteps(NamedTuple):
    """The pattern's own steps, from its files (Mapper.py, Consumer.py, Worker.py, ...)."""

    source: Callable[[Iterable[Any]], Iterator[Any]]
    apply_batch: Callable[..., list[Any]]
    merge: Callable[[list[Any], list[Any]], None]


def pattern_steps(pattern: str) -> PatternSteps:
    """Import the generated pattern files lazily: only the region's own pattern is needed."""
    if pattern == "mapreduce":
        mapper, reducer = (
            importlib.import_module("Mapper"),
            importlib.import_module("Reducer"),
        )
        return PatternSteps(iter, mapper.map_split, reducer.reduce_split)
    if pattern == "producer-consumer":
        producer = importlib.import_module("Producer")
        consumer = importlib.import_module("Consumer")
        return PatternSteps(producer.produce, consumer.consume_batch, list.extend)
    if pattern == "bag-of-tasks":
        worker = importlib.import_module("Worker")
        return PatternSteps(iter, worker.run_tasks, list.extend)
    raise ValueError(f"unknown pattern {pattern!r}")


def map_items(
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    items: Sequence[Any],
    recorder: Any,
) -> list[Any]:
    """The kernel over a batch, values in order (the step of a Hadoop Streaming mapper)."""
    values: list[Any] = []
    recorder.follow(values)
    for item in items:
        values.append(kernel(item, *repl))
    return values


def run_batch(
    number: int,
    apply_batch: Callable[..., list[Any]],
    kernel: Callable[..., Any],
    repl: tuple[Any, ...],
    items: Sequence[Any],
    recorder: OutputRecorder,
    keep_stderr: bool = False,
    travels: bool = True,
) -> Outcome:
    """Run one batch in a worker, what it prints and logs recorded per item; with
    ``keep_stderr``, what it writes to stderr travels with the outcome (a container's
    stderr is a log nobody reads). ``travels``: False for a batch the main process runs
    itself, whose exception it raises as it is."""
    real_stdout, real_stderr = sys.stdout, sys.stderr
    errors = io.StringIO()
    recorder.offset = 0
    sys.stdout = recorder
    if keep_stderr:
        sys.stderr = errors
    started = time.perf_counter()
    try:
        with logging_recorded(recorder, travels):
            values = apply_batch(kernel, repl, items, recorder)
    except BaseException as error:  # report it, never drop it
        sys.stdout, sys.stderr = real_stdout, real_stderr
        offset = recorder.offset
        return Failed(
            number,
            offset,
            describe_item(kernel, repl, items[offset]),
            portable(error) if travels else error,
            traceback.format_exc(),
            recorder.take(),
            errors.getvalue(),
            unmet(),
        )
    sys.stdout, sys.stderr = real_stdout, real_stderr
    seconds = time.perf_counter() - started
    return Done(number, values, seconds, recorder.take(), errors.getvalue(), unmet())


def not_started(number: int, count: int, where: str, error: BaseException) -> Failed:
    """The outcome of a batch whose job or items could not even be loaded where it was to
    run (a class the worker cannot import, say): a failure of its first item, raised in
    the main program with the worker's own error and traceback. Never a lost worker to try
    again: the next attempt would fail the same way."""
    what = f"a batch of {count or 'its'} item(s) that could not be loaded in {where}"
    return Failed(number, 0, what, portable(error), traceback.format_exc(), {})


def pickled_outcome(outcome: Outcome, items: Sequence[Any]) -> bytes:
    """Pickle an outcome where it was made, so that a result that cannot travel is reported
    as the failure of its item instead of vanishing on the way."""
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:
        values = outcome.values if isinstance(outcome, Done) else []
        offset = next((i for i, v in enumerate(values) if not picklable(v)), 0)
        problem = TypeError(
            f"the result for this item cannot be sent back to the main program: {error}"
        )
        printed = {k: v for k, v in outcome.printed.items() if k <= offset}
        answer = Failed(
            outcome.number,
            offset,
            short_repr(items[offset]),
            problem,
            f"TypeError: {problem}",
            printed,
            outcome.stderr,
        )
        return pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)


def combine(number: int, outcomes: Iterable[Outcome]) -> Outcome:
    """Consecutive batches' outcomes as one (a Spark job's partitions, a Hadoop job's
    records): offsets counted from the first batch's first item; the first failure ends it."""
    values: list[Any] = []
    printed: dict[int, Output] = {}
    seconds, stderr, notes = 0.0, "", ""
    for outcome in outcomes:
        base = len(values)
        printed.update(
            {base + offset: text for offset, text in outcome.printed.items()}
        )
        stderr += outcome.stderr
        notes += outcome.notes
        if isinstance(outcome, Failed):
            return outcome._replace(
                number=number,
                offset=base + outcome.offset,
                printed=printed,
                stderr=stderr,
                notes=notes,
            )
        values += outcome.values
        seconds += outcome.seconds
    return Done(number, values, seconds, printed, stderr, notes)


def replay_outcome(
    region: RegionRecord,
    outcome: Outcome,
    start: int,
    ordered: list[Any],
    merge: Callable[[list[Any], list[Any]], None],
    feed: ProducerFeed | None,
) -> None:
    """Replay one batch's outcome in input order (its first item is item ``start`` of the
    region): what the producer and the kernel printed, then its values merged; a failure
    is raised with notes naming the item and carrying the worker's traceback."""
    if outcome.stderr:
        sys.stderr.write(outcome.stderr)
        sys.stderr.flush()
    if outcome.notes:
        said_once(outcome.notes)
    last = len(outcome.values) - 1 if isinstance(outcome, Done) else outcome.offset
    if outcome.printed or (feed is not None and feed.output):
        for offset in range(last + 1):
            if feed is not None:
                feed.write_output(start + offset)
            if offset in outcome.printed:
                replay(outcome.printed[offset])
    if isinstance(outcome, Done):
        merge(ordered, outcome.values)
        return
    error = received(outcome.error)
    sys.stdout.flush()
    seen = region.files_workers_see()
    if seen and isinstance(error, OSError):
        _say_where_the_file_is(error, seen)
    if outcome.offset < 0:  # no kernel failed: the driver gave the batch up
        raise error
    note = failure_note(region, start + outcome.offset, outcome.item)
    if isinstance(error, BaseException) and not isinstance(
        error, SystemExit | KeyboardInterrupt
    ):
        error.add_note(note)
        error.add_note("worker traceback:\n" + outcome.traceback.rstrip())
    else:
        sys.stderr.write(note + "\n")
    raise error


def _say_where_the_file_is(error: OSError, seen: str) -> None:
    """A kernel that did not find a file this machine has: name the path, what the
    workers see (``seen``) and the fix."""
    path = error.filename
    if isinstance(path, str) and os.path.isabs(path) and os.path.exists(path):
        error.add_note(
            f"toreador: {path} exists where Main.py runs but not where the kernel ran: "
            f"{seen}; open it in the main program and pass its contents, or keep it under "
            "one of those"
        )


_SAID: set[str] = set()


def said_once(notes: str) -> None:
    """Workers' notes on the program's stderr, each line once however many workers said it."""
    for line in notes.splitlines(keepends=True):
        if line not in _SAID:
            _SAID.add(line)
            sys.stderr.write(line)
    sys.stderr.flush()
