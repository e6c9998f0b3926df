"""What the primitives mean, the same in every engine and in the sequential reference.

A region is always run as a map: items, a kernel, replicated arguments (a bag of tasks
becomes a map over task numbers). Every engine checks its arguments as the reference
(``toreador.data_parallel_region`` and friends) does, and raises the same errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# Inputs that are read as they are, not produced: their iteration prints nothing and
# cannot fail.
SEQUENCE_TYPES = (list, tuple, range, str, bytes, dict, set, frozenset)


class PrimitiveUsageError(TypeError):
    """A primitive was called in a way that has no meaning (the reference raises the same)."""


@dataclass(frozen=True)
class RegionRecord:
    """One compiled parallel region: where it came from and how to run it. Each engine
    extends it with the deployment model's settings it needs, and with ``run``."""

    label: str
    primitive: str
    pattern: str
    kernel: str
    workers: int = 0
    # how many times a batch may lose its worker (killed, crashed) before the run gives up:
    # the deployment model's max_attempts, as Hadoop's and Spark's task attempts
    max_attempts: int = 4

    def __call__(self, data: Any, kernel: Any, *repl: Any) -> list[Any]:
        """The region run with these arguments: a primitive the program uses as a value
        (``p = data_parallel_region``) is compiled into its region record."""
        return self.run(data, kernel, *repl)

    def run(self, data: Iterable[Any], kernel: Any, *repl: Any) -> list[Any]:
        """Run the region with the meaning of its primitive; results in input order."""
        raise NotImplementedError(f"{type(self).__name__} has no engine")

    def files_workers_see(self) -> str:
        """Which of this machine's files the workers see, when not all of them as the main
        program does ("": all of them); named where a kernel did not find one."""
        return ""


def run_region(
    region: RegionRecord, data: Iterable[Any], kernel: Any, *repl: Any
) -> list[Any]:
    """What Main.py calls for each region."""
    return region.run(data, kernel, *repl)


def _require_callable(kernel: object, role: str, primitive: str) -> None:
    if not callable(kernel):
        raise PrimitiveUsageError(
            f"{primitive}: {role} must be callable, got {type(kernel).__name__} {kernel!r:.80}"
        )


def run_task(number: int, datas: list[Any], funcs: list[Callable[[Any], Any]]) -> Any:
    """A bag-of-tasks task, run as a map over task numbers."""
    return funcs[number](datas[number])


def region_items(
    primitive: str, data: Iterable[Any], kernel: Any, repl: tuple[Any, ...]
) -> tuple[Iterable[Any], Callable[..., Any], tuple[Any, ...]]:
    """Any region as a map (items, kernel, replicated arguments), checked as the reference
    checks. A bag of tasks becomes a map over task numbers; the lists of data and functions
    travel as replicated arguments, so a task's function is never sent on its own."""
    if primitive != "bag_of_task":
        role = "func" if primitive == "data_parallel_region" else "consumer"
        _require_callable(kernel, role, primitive)
        return data, kernel, repl
    datas, funcs = list(data), list(kernel)
    if len(datas) != len(funcs):
        raise PrimitiveUsageError(
            f"bag_of_task: {len(datas)} data but {len(funcs)} functions; "
            "every datum needs exactly one function"
        )
    for position, func in enumerate(funcs):
        _require_callable(func, f"funcs[{position}]", "bag_of_task")
    return range(len(datas)), run_task, (datas, funcs)


def run_in_place(
    region: RegionRecord, data: Iterable[Any], kernel: Any, repl: tuple[Any, ...]
) -> list[Any]:
    """The region run here, item after item: the reference's own loop (a nested region
    inside a worker whose CPUs are already in use)."""
    items, kernel, repl = region_items(region.primitive, data, kernel, repl)
    return [kernel(item, *repl) for item in items]


def is_list_like(items: Iterable[Any]) -> bool:
    """A list, tuple or range: its length is known and it can be cut up front."""
    return isinstance(items, list | tuple | range)


def worker_count(requested: int) -> int:
    """Workers for a region: the deployment model's number, else the machine's cores."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not every platform has affinity
        return max(1, os.cpu_count() or 1)


def failure_note(region: RegionRecord, position: int, item: str) -> str:
    """The note a kernel's exception carries, wherever it ran: region, position, item."""
    return (
        f"toreador: kernel {region.kernel} of region {region.label} "
        f"failed on item {position}: {item}"
    )


def short_repr(item: Any) -> str:
    """The item as an error message shows it; a broken __repr__ must not hide the failure."""
    try:
        text = repr(item)
    except Exception as error:
        text = f"<{type(item).__name__} with failing repr: {error}>"
    return text if len(text) <= 200 else text[:197] + "..."


def describe_item(kernel: Any, repl: tuple[Any, ...], item: Any) -> str:
    """The item as the user knows it: for a bag of tasks, the task's datum, not its number."""
    if kernel is run_task:
        function = repl[1][item]
        name = getattr(function, "__qualname__", None) or type(function).__name__
        return f"{short_repr(repl[0][item])} (task {item}, {name})"
    return short_repr(item)
