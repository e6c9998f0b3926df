"""The runtime's driver and outcomes, tested in place (``toreador.runtime``): an engine
whose workers answer out of order must still replay in input order, stop at the first
failing item in input order, keep its window, and replay what a producer printed."""

from __future__ import annotations

import contextlib
import io
import random
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toreador.runtime.driver import BatchSizer, Driver, feed_for
from toreador.runtime.outcomes import (
    Done,
    Failed,
    Outcome,
    PatternSteps,
    combine,
    map_items,
    run_batch,
)
from toreador.runtime.output import OutputRecorder
from toreador.runtime.semantics import RegionRecord, run_in_place

STEPS = PatternSteps(iter, map_items, list.extend)
REGION = RegionRecord("p.py:1", "data_parallel_region", "mapreduce", "kernel")


class Shuffled(Driver[RegionRecord]):
    """Runs each batch at once in this thread but answers in a random order: the order a
    pool of workers of uneven speed would answer in."""

    def __init__(self, kernel: Any, window: int, seed: int, size: int) -> None:
        super().__init__(REGION, STEPS, window)
        self.size = size
        self.kernel, self.random = kernel, random.Random(seed)
        self.answers: list[Outcome] = []
        self.most_in_flight = 0

    def submit(self, number: int, start: int, batch: Sequence[Any]) -> None:
        outcome = run_batch(number, map_items, self.kernel, (), list(batch), OutputRecorder())
        self.answers.append(outcome)
        self.most_in_flight = max(self.most_in_flight, len(self.answers))

    def receive(self, timeout: float) -> Outcome | None:
        return self.answers.pop(self.random.randrange(len(self.answers)))


def noisy(x: int) -> int:
    print("item", x)
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * 2


def run(driver: Driver, items: Any) -> tuple[Any, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            sizer = BatchSizer(fixed=driver.size)  # type: ignore[attr-defined]
            result: Any = driver.run(feed_for(REGION, STEPS, items), sizer, None)
        except ValueError as error:
            result = ("ValueError", str(error), error.__notes__[0])
    return result, out.getvalue()


def sequential(items: list[int]) -> tuple[Any, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            result: Any = run_in_place(REGION, items, noisy, ())
        except ValueError as error:
            result = ("ValueError", str(error))
    return result, out.getvalue()


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(st.integers(-3, 50), max_size=40),
    window=st.integers(1, 5),
    size=st.integers(1, 7),
    seed=st.integers(0, 10**6),
    streamed=st.booleans(),
)
def test_out_of_order_answers_replay_as_the_sequential_run(
    items: list[int], window: int, size: int, seed: int, streamed: bool
) -> None:
    driver = Shuffled(noisy, window, seed, size)
    got, printed = run(driver, iter(items) if streamed else items)
    expected, expected_printed = sequential(items)
    assert printed == expected_printed
    if isinstance(expected, tuple):  # the first negative item, in input order, fails the run
        first = items.index(next(x for x in items if x < 0))
        assert got[:2] == expected
        assert got[2].endswith(f"failed on item {first}: {items[first]}")
    else:
        assert got == expected
    assert driver.most_in_flight <= window


def test_a_producers_output_and_failure_come_where_the_reference_puts_them() -> None:
    def produce() -> Iterator[int]:
        for x in range(5):
            print("made", x)
            yield x
        raise KeyError("producer broke")

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(KeyError, match="producer broke"):
        feed = feed_for(REGION, STEPS, produce())
        Shuffled(noisy, 2, 1, 2).run(feed, BatchSizer(fixed=2), None)
    lines = out.getvalue().splitlines()
    assert lines == [line for x in range(5) for line in (f"made {x}", f"item {x}")]


def test_combined_outcomes_count_offsets_from_the_first_batch() -> None:
    first = Done(0, [1, 2], 0.5, {1: "b\n"})
    second = Failed(1, 1, "7", ValueError("x"), "tb", {0: "c\n", 1: "d\n"})
    merged = combine(9, [first, second])
    assert isinstance(merged, Failed)
    assert (merged.number, merged.offset) == (9, 3)
    assert merged.printed == {1: "b\n", 2: "c\n", 3: "d\n"}
    done = combine(4, [first, Done(1, [3], 0.25, {0: "e\n"})])
    assert done == Done(4, [1, 2, 3], 0.75, {1: "b\n", 2: "e\n"})


def test_the_batch_sizer_aims_at_its_target_and_balances_the_end() -> None:
    sizer = BatchSizer(0.05, most=4096, balance_over=2, total=10_000)
    assert sizer.size(0) == 1  # nothing measured yet
    sizer.measure(0.01, 100)  # 0.1 ms an item: 500 items make 0.05 s
    assert sizer.size(0) == 500
    # 100 left for 2 workers: cut to balance (13), but never below 2 ms of work (20 items)
    assert sizer.size(9_900) == 20
    assert sizer.size(0) == 500
    sizer.measure_bytes(1_000_000, 1)  # 1 MB items: the byte cap rules
    assert sizer.size(0) == 33


def test_made_once_makes_one_value_for_racing_threads() -> None:
    from toreador.runtime.driver import MadeOnce

    made: list[int] = []
    once: MadeOnce[int] = MadeOnce()

    def make() -> int:
        made.append(1)
        return len(made)

    threads = [threading.Thread(target=once.get, args=(make,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1] and once.get(make) == 1


def test_ctrl_c_while_workers_are_forked_is_raised_after_the_forks() -> None:
    """A KeyboardInterrupt raised in Python's after-fork hooks is printed and dropped; the
    local engine holds Ctrl-C over its forks and raises it after them."""
    import os
    import signal

    from toreador.runtime.local_workers import interrupt_after_fork

    reached_the_end_of_the_block = False
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Spark sets its own
    try:
        with pytest.raises(KeyboardInterrupt), interrupt_after_fork():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between bytecodes, here
                pass
            reached_the_end_of_the_block = True
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
    assert reached_the_end_of_the_block
