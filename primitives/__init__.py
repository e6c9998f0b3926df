"""toreador's three parallel primitives, with their sequential (reference) semantics.

A program annotated with these functions runs unchanged on one machine: that run is the
reference the compiled, parallel program must reproduce exactly. The compiler finds these calls
in the source and replaces them; at run time they are plain, ordered maps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

__all__ = ["PrimitiveUsageError", "bag_of_task", "data_parallel_region", "producer_consumer"]
__version__ = "0.1.0"

Item = TypeVar("Item")
Result = TypeVar("Result")


class PrimitiveUsageError(TypeError):
    """A primitive was called in a way that has no meaning (not a kernel failure)."""


def _require_callable(kernel: object, role: str, primitive: str) -> None:
    if not callable(kernel):
        raise PrimitiveUsageError(
            f"{primitive}: {role} must be callable, got {type(kernel).__name__} {kernel!r:.80}"
        )


def data_parallel_region(
    distr: Iterable[Item], func: Callable[..., Result], *repl: Any
) -> list[Result]:
    """Apply ``func`` to every item of ``distr``: ``[func(x, *repl) for x in distr]``.

    Marks independent items (a map); compiled, the items are spread over workers and the
    results come back in input order. ``repl`` values are replicated to every worker.
    """
    _require_callable(func, "func", "data_parallel_region")
    return [func(item, *repl) for item in distr]


def producer_consumer(
    producer: Iterable[Item], consumer: Callable[..., Result], *repl: Any
) -> list[Result]:
    """Consume every item the producer yields: ``[consumer(x, *repl) for x in producer]``.

    Marks a stream: compiled, consumers work while the producer (often a generator too large
    to hold in memory) still produces, through a bounded queue.
    """
    _require_callable(consumer, "consumer", "producer_consumer")
    return [consumer(item, *repl) for item in producer]


def bag_of_task(
    datas: Sequence[Any] | Iterable[Any], funcs: Sequence[Callable[[Any], Any]] | Iterable[Any]
) -> list[Any]:
    """Run heterogeneous tasks side by side: ``[f(d) for d, f in zip(datas, funcs)]``.

    The lengths must match: a silently dropped task would lose a result, so unequal lengths
    are an error rather than ``zip``'s truncation.
    """
    data_list = list(datas)
    func_list = list(funcs)
    if len(data_list) != len(func_list):
        raise PrimitiveUsageError(
            f"bag_of_task: {len(data_list)} data but {len(func_list)} functions; "
            "every datum needs exactly one function"
        )
    for position, func in enumerate(func_list):
        _require_callable(func, f"funcs[{position}]", "bag_of_task")
    return [func(datum) for datum, func in zip(data_list, func_list, strict=True)]
