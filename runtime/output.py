"""Printed output, recorded per item where kernels run and replayed in input order here;
and the feeds a region's items are pulled from.

What a kernel prints while it processes item i is replayed just before item i+1's: stdout
reads as the sequential program's, whichever worker ran which item when. What it logs is
output the same way: a record that passed its logger's level where the kernel ran is kept
in place among the item's prints, and handed here to the handlers the program configured
(``LogEntry``), which a worker that did not fork from the main program does not have.
"""

from __future__ import annotations

import _thread
import contextlib
import copy
import io
import pickle
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple


class LogEntry(NamedTuple):
    """A record a kernel logged, for the handlers of its logger in the main program."""

    logger: str  # the logger's name; "" for the root logger
    # a logging.LogRecord, made able to travel where it must (``_travelling``)
    record: Any


# What an item printed: text, or text, bytes and log records in the order they came.
Output = str | tuple[str | bytes | LogEntry, ...]


class OutputRecorder(io.TextIOBase):
    """Stands in for sys.stdout and files each write under the item being processed: the
    offset set last, or, while following a batch's list of values, the item after the last
    value (so a step's loop pays nothing per item for the bookkeeping)."""

    def __init__(self) -> None:
        self._offset = 0
        self._values: list[Any] | None = None
        self.chunks: dict[int, list[str | bytes | LogEntry]] = {}
        self.buffer = _BytesChannel(self)  # sys.stdout.buffer.write(b"...") in a kernel

    @property
    def offset(self) -> int:
        return self._offset if self._values is None else len(self._values)

    @offset.setter
    def offset(self, value: int) -> None:
        self._values = None
        self._offset = value

    def follow(self, values: list[Any]) -> None:
        """From now on, the item being processed is the one whose value comes next."""
        self._values = values

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self.file(text)
        return len(text)

    def file(self, part: str | bytes | LogEntry) -> None:
        """Keep what was written, under the item being processed."""
        self.chunks.setdefault(self.offset, []).append(part)

    def take(self) -> dict[int, Output]:
        """Each item's output: its text, or, when it also wrote bytes, its parts in order."""
        chunks: dict[int, Output] = {}
        for offset, parts in self.chunks.items():
            if all(isinstance(part, str) for part in parts):
                chunks[offset] = "".join(parts)  # type: ignore[arg-type]
            else:
                chunks[offset] = tuple(parts)
        self.chunks = {}
        return chunks


class _BytesChannel(io.RawIOBase):
    """An OutputRecorder's ``buffer``: bytes written there are filed with the item's text."""

    def __init__(self, recorder: OutputRecorder) -> None:
        self.recorder = recorder

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if chunk:
            self.recorder.file(chunk)
        return len(chunk)


def replay(output: Output) -> None:
    """Write what an item printed to the real stdout: text as text, bytes to its buffer,
    in the order the kernel wrote them."""
    if isinstance(output, str):
        sys.stdout.write(output)
        return
    for part in output:
        if isinstance(part, str):
            sys.stdout.write(part)
        elif isinstance(part, LogEntry):
            import logging

            logger = logging.getLogger(part.logger or None)
            logger.callHandlers(part.record)  # its logger's level passed where it ran
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(part)
            sys.stdout.buffer.flush()


@contextlib.contextmanager
def logging_recorded(recorder: OutputRecorder, travels: bool) -> Iterator[None]:
    """While a batch runs in this thread, what its kernels log is filed with their prints
    instead of reaching this process's handlers (a forked worker's copies of the program's
    handlers would write out of order; a fresh interpreter has none). Records still pass
    their loggers' levels and filters here, as in the sequential run; ``travels``: made
    able to be pickled. A program that never imported logging pays nothing."""
    logging = sys.modules.get("logging")
    if logging is None:
        yield
        return
    original = logging.Logger.callHandlers
    thread = _thread.get_ident()
    root = logging.root

    def call_handlers(logger: Any, record: Any) -> None:
        if _thread.get_ident() != thread:  # another thread of this process: its own way
            original(logger, record)
            return
        name = "" if logger is root else logger.name
        recorder.file(LogEntry(name, _travelling(record) if travels else record))

    logging.Logger.callHandlers = call_handlers
    try:
        yield
    finally:
        logging.Logger.callHandlers = original


def keep_library_records(name: str) -> None:
    """An engine's own library (py4j, the Docker SDK) logging under ``name``: its records
    stop at its logger, so a program that logs DEBUG to stdout never gets them in its
    output; its warnings still reach stderr by logging's last resort. Left alone when the
    program gave that logger a handler of its own (a library's NullHandler is none)."""
    import logging

    logger = logging.getLogger(name)
    # (py4j's NullHandler is a class of its own: known by its name)
    if logger.propagate and all(
        type(h).__name__ == "NullHandler" for h in logger.handlers
    ):
        logger.propagate = False


# the attributes every LogRecord has: the rest came from ``extra=``
_RECORD_FIELDS = frozenset(
    {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process", "taskName",
        "message", "asctime",
    }
)  # fmt: skip


def _travelling(record: Any) -> Any:
    """A copy of ``record`` that pickle can send: its message formatted (its arguments may
    not travel), its exception's traceback as text (as the program's formatter would print
    it), and any ``extra=`` value that cannot travel as its repr."""
    import logging

    record = copy.copy(record)
    try:
        record.msg, record.args = record.getMessage(), None
    except Exception:
        # a bad format: the program's handler will say "--- Logging error ---", as it would
        record.args = (
            tuple(repr(a) for a in record.args) if record.args else record.args
        )
    if record.exc_info:
        if not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
    for name, value in list(vars(record).items()):
        if name not in _RECORD_FIELDS:
            try:
                pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            except Exception:
                setattr(record, name, repr(value))
    return record


class ProducerFeed:
    """Items pulled lazily from the program's iterable, in batches. What a generator prints
    while producing item i is kept and replayed just before item i's own output; a failing
    producer ends the input, and its error is raised after the earlier items have run, as in
    the reference."""

    def __init__(self, source: Iterator[Any], capture: bool) -> None:
        self.source, self.capture = source, capture
        self.next_index = 0
        self.exhausted = False
        self.output: dict[int, Output] = {}
        self.error: BaseException | None = None

    def pull(self, wanted: int) -> Sequence[Any]:
        batch: list[Any] = []
        recorder = OutputRecorder() if self.capture else None
        real_stdout = sys.stdout
        try:
            while len(batch) < wanted:
                if recorder is not None:
                    recorder.offset = self.next_index
                    sys.stdout = recorder
                try:
                    item = next(self.source)
                except StopIteration:
                    self.exhausted = True
                    break
                finally:
                    sys.stdout = real_stdout
                batch.append(item)
                self.next_index += 1
        except (
            BaseException
        ) as error:  # the producer failed: finish earlier items, then raise
            self.error = error
            self.exhausted = True
        if recorder is not None:
            self.output.update(recorder.take())
        return batch

    def write_output(self, upto: int) -> None:
        """What the producer printed for items up to ``upto``, in order."""
        if self.output:
            for index in sorted(i for i in self.output if i <= upto):
                replay(self.output.pop(index))

    def finish(self) -> None:
        """After the last item: the producer's last words, then its failure if it failed."""
        self.write_output(self.next_index)
        if self.error is not None:
            raise self.error


class SequenceFeed(ProducerFeed):
    """A list, tuple or range, handed out in slices (or, for workers that inherited the
    sequence, as ranges of positions: no item travels). Reading it prints nothing."""

    def __init__(
        self, items: Sequence[Any], as_ranges: bool = False, start: int = 0
    ) -> None:
        super().__init__(iter(()), capture=False)
        self.items, self.as_ranges = items, as_ranges
        self.next_index = start
        self.exhausted = start >= len(items)

    def pull(self, wanted: int) -> Sequence[Any]:
        start = self.next_index
        stop = min(len(self.items), start + max(1, wanted))
        self.next_index = stop
        self.exhausted = stop == len(self.items)
        if self.as_ranges:
            return range(start, stop)
        return self.items if stop - start == len(self.items) else self.items[start:stop]
