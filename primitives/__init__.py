"""toreador's three parallel primitives, with their sequential (reference) semantics.

A program annotated with these functions runs unchanged on one machine: that run is the
reference the compiled, parallel program must reproduce exactly. The compiler finds these calls
in the source and replaces them; at run time they are plain, ordered maps. Their checks are
the runtime's own (``toreador.runtime.semantics``), so an engine refuses exactly what the
reference refuses, with the same message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from .runtime.semantics import PrimitiveUsageError, region_items

__all__ = ["PrimitiveUsageError", "bag_of_task", "data_parallel_region", "producer_consumer"]
__version__ = "0.1.0"

Item = TypeVar("Item")
Result = TypeVar("Result")


def data_parallel_region(
    distr: Iterable[Item], func: Callable[..., Result], *repl: Any
) -> list[Result]:
    """Apply ``func`` to every item of ``distr``: ``[func(x, *repl) for x in distr]``.

    Marks independent items (a map); compiled, the items are spread over workers and the
    results come back in input order. ``repl`` values are replicated to every worker.
    """
    items, kernel, args = region_items("data_parallel_region", distr, func, repl)
    return [kernel(item, *args) for item in items]


def producer_consumer(
    producer: Iterable[Item], consumer: Callable[..., Result], *repl: Any
) -> list[Result]:
    """Consume every item the producer yields: ``[consumer(x, *repl) for x in producer]``.

    Marks a stream: compiled, consumers work while the producer (often a generator too large
    to hold in memory) still produces, through a bounded queue.
    """
    items, kernel, args = region_items("producer_consumer", producer, consumer, repl)
    return [kernel(item, *args) for item in items]


def bag_of_task(
    datas: Sequence[Any] | Iterable[Any], funcs: Sequence[Callable[[Any], Any]] | Iterable[Any]
) -> list[Any]:
    """Run heterogeneous tasks side by side: ``[f(d) for d, f in zip(datas, funcs)]``.

    The lengths must match: a silently dropped task would lose a result, so unequal lengths
    are an error rather than ``zip``'s truncation.
    """
    tasks, run_task, lists = region_items("bag_of_task", datas, funcs, ())
    return [run_task(number, *lists) for number in tasks]
