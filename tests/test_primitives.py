"""The sequential primitives: the reference semantics every compiled program must match."""

from __future__ import annotations

import re

import pytest

import toreador
from toreador import PrimitiveUsageError, bag_of_task, data_parallel_region, producer_consumer


def add(x: int, y: int = 0, z: int = 0) -> int:
    return x + y + z


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(lambda: data_parallel_region([1, 2, 3], add), [1, 2, 3], id="map"),
        pytest.param(lambda: data_parallel_region([1, 2], add, 10, 100), [111, 112], id="repl"),
        pytest.param(lambda: data_parallel_region([], add), [], id="empty"),
        pytest.param(lambda: producer_consumer(iter(range(3)), add, 1), [1, 2, 3], id="stream"),
        pytest.param(
            lambda: producer_consumer((x for x in "ab"), str.upper), ["A", "B"], id="generator"
        ),
        pytest.param(lambda: bag_of_task([1, "a"], [add, str.upper]), [1, "A"], id="bag"),
        pytest.param(lambda: bag_of_task([], []), [], id="empty-bag"),
    ],
)
def test_sequential_meaning(call, expected) -> None:  # type: ignore[no-untyped-def]
    assert call() == expected


def test_import_forms_give_the_same_functions() -> None:
    assert toreador.data_parallel_region is data_parallel_region
    assert set(toreador.__all__) >= {"data_parallel_region", "producer_consumer", "bag_of_task"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: bag_of_task([1, 2], [str]), "2 data but 1 functions", id="unequal"),
        pytest.param(lambda: bag_of_task([1], [3]), "funcs[0] must be callable", id="bag-call"),
        pytest.param(lambda: data_parallel_region([1], 5), "func must be callable", id="func"),
        pytest.param(
            lambda: producer_consumer([1], None), "consumer must be callable", id="consumer"
        ),
    ],
)
def test_misuse_is_a_clear_error(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PrimitiveUsageError, match=re.escape(message)):
        call()


def test_kernel_exception_propagates_and_stops() -> None:
    seen: list[int] = []

    def kernel(x: int) -> float:
        seen.append(x)
        return 1 / x

    with pytest.raises(ZeroDivisionError):
        data_parallel_region([1, 0, 2], kernel)
    assert seen == [1, 0]
