"""What a kernel logs, recorded where it runs and handed to the main program's handlers in
input order (runtime/output.py): a batch is run as a worker runs it (``run_batch``), its
outcome pickled and unpickled as it travels, and replayed under the handlers the program
configured, against the same kernel run sequentially under those handlers. The corpus
program sensor_audit.py checks the same end to end on every target."""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Iterator

import pytest

from toreador.runtime.outcomes import Done, map_items, run_batch
from toreador.runtime.output import OutputRecorder, replay

LOG = logging.getLogger("kernel.logging.test")


class Unpicklable:
    def __reduce__(self) -> str:
        raise TypeError("cannot pickle this")

    def __repr__(self) -> str:
        return "<unpicklable>"


def kernel(x: int) -> int:
    LOG.info("item %d", x)
    print(f"print {x}")
    if x == 1:
        try:
            _ = 1 / 0
        except ZeroDivisionError:
            LOG.exception("item %d failed", x)
    if x == 2:
        LOG.warning("with an extra", extra={"handle": Unpicklable()})
    LOG.debug("below the level")
    return x


@pytest.fixture
def handlers() -> Iterator[io.StringIO]:
    """The program's logging set-up: its records written to the stream stdout is too."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(handle)s"))
    handler.addFilter(_default_handle)
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    try:
        yield stream
    finally:
        LOG.removeHandler(handler)
        LOG.setLevel(logging.NOTSET)
        LOG.propagate = True


def _default_handle(record: logging.LogRecord) -> bool:
    if not hasattr(record, "handle"):
        record.handle = "-"
    return True


def test_records_travel_and_reach_the_program_s_handlers_in_order(
    handlers: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [0, 1, 2, 3]
    # the sequential run, with prints going to the handler's stream too
    monkeypatch.setattr("sys.stdout", handlers)
    for item in items:
        kernel(item)
    expected = handlers.getvalue()
    handlers.seek(0)
    handlers.truncate()
    # the batch as a worker runs it, its outcome pickled there and replayed here
    outcome = run_batch(0, map_items, kernel, (), items, OutputRecorder(), travels=True)
    assert isinstance(outcome, Done)
    received = pickle.loads(pickle.dumps(outcome))
    assert handlers.getvalue() == ""  # nothing reached the handlers while it ran
    for offset in range(len(items)):
        replay(received.printed[offset])
    got = handlers.getvalue()
    assert got.splitlines()[:3] == [
        "INFO kernel.logging.test item 0 -",
        "print 0",
        "INFO kernel.logging.test item 1 -",
    ]
    assert "ZeroDivisionError: division by zero" in got  # the traceback, as text
    assert "WARNING kernel.logging.test with an extra <unpicklable>" in got  # its repr
    assert got == expected
