"""Property tests: the generated engines (local, and spark on the shared local session) equal
the sequential primitives on arbitrary inputs, kernels, worker counts and patterns."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toreador

from .helpers import compile_into

PROGRAM = (
    "from toreador import data_parallel_region, producer_consumer, bag_of_task\n"
    "def k(x):\n    return x\n"
    "data_parallel_region([1], k)\nproducer_consumer([1], k)\nbag_of_task([1], [k])\n"
)


ENGINES = {"local": "toreador_runtime.local", "spark": "toreador_runtime.spark"}


@pytest.fixture(scope="module", params=sorted(ENGINES))
def runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    target = request.param
    if target == "spark":
        request.getfixturevalue("spark_session")
    folder = tmp_path_factory.mktemp(f"engine-{target}")
    (folder / "p.py").write_text(PROGRAM)
    out = compile_into(folder / "p.py", folder / "out", target=target)
    sys.path.insert(0, str(out))
    engine = importlib.import_module(ENGINES[target])
    yield engine
    sys.path.remove(str(out))
    for name in list(sys.modules):
        if name.startswith("toreador_runtime") or name in STEPS:
            sys.modules.pop(name, None)


STEPS = ("Mapper", "Reducer", "Producer", "Consumer", "Worker")


def double(x: Any) -> Any:
    return x * 2


def describe(x: Any, tag: str = "") -> str:
    return f"{tag}{type(x).__name__}:{x!r}"


def noisy(x: Any) -> int:
    print("item", repr(x))
    return len(repr(x))


def fails_on_negative(x: int) -> int:
    print("seen", x)
    if x < 0:
        raise ValueError(f"negative {x}")
    return x


KERNELS = [double, describe, noisy, len, str, repr]
ITEMS = st.one_of(
    st.integers(),
    st.text(),
    st.tuples(st.integers(), st.text()),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.binary(max_size=20),
    st.none(),
    st.floats(allow_nan=False),
)
PATTERNS = ["mapreduce", "producer-consumer", "bag-of-tasks"]
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def capture(call: Any) -> tuple[Any, str]:
    """The result (or the exception's type and text) and everything printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        try:
            result = call()
        except Exception as error:
            result = (type(error).__name__, str(error))
    return result, buffer.getvalue()


def region(runtime: Any, primitive: str, pattern: str, workers: int) -> Any:
    return runtime.Region("p.py:1", primitive, pattern, "k", workers)


@SETTINGS
@given(
    items=st.lists(ITEMS, max_size=60),
    kernel=st.sampled_from(KERNELS),
    pattern=st.sampled_from(PATTERNS),
    workers=st.integers(1, 4),
)
def test_map_equals_sequential(
    runtime: Any, items: list[Any], kernel: Any, pattern: str, workers: int
) -> None:
    spec = region(runtime, "data_parallel_region", pattern, workers)
    expected = capture(lambda: toreador.data_parallel_region(items, kernel))
    assert capture(lambda: runtime.run_region(spec, items, kernel)) == expected


@SETTINGS
@given(
    items=st.lists(st.integers(), max_size=80),
    pattern=st.sampled_from(PATTERNS),
    workers=st.integers(2, 3),
    tag=st.text(max_size=3),
)
def test_stream_with_replicated_argument(
    runtime: Any, items: list[int], pattern: str, workers: int, tag: str
) -> None:
    def generate() -> Iterator[int]:
        for item in items:
            print("produced", item)
            yield item

    spec = region(runtime, "producer_consumer", pattern, workers)
    expected = capture(lambda: toreador.producer_consumer(generate(), describe, tag))
    assert capture(lambda: runtime.run_region(spec, generate(), describe, tag)) == expected


@SETTINGS
@given(data=st.lists(st.integers(-5, 5), max_size=12), pattern=st.sampled_from(PATTERNS))
def test_bag_equals_sequential(runtime: Any, data: list[int], pattern: str) -> None:
    funcs = [[double, str, abs, lambda v: v - 1][i % 4] for i in range(len(data))]
    spec = region(runtime, "bag_of_task", pattern, 2)
    assert runtime.run_region(spec, data, funcs) == toreador.bag_of_task(data, funcs)


@SETTINGS
@given(
    items=st.lists(st.integers(-3, 30), min_size=1, max_size=60), pattern=st.sampled_from(PATTERNS)
)
def test_first_failure_wins_with_earlier_output(
    runtime: Any, items: list[int], pattern: str
) -> None:
    spec = region(runtime, "data_parallel_region", pattern, 2)

    expected = capture(lambda: toreador.data_parallel_region(items, fails_on_negative))
    got = capture(lambda: runtime.run_region(spec, items, fails_on_negative))
    assert got == expected


def test_unequal_bag_is_refused_like_the_reference(runtime: Any) -> None:
    spec = region(runtime, "bag_of_task", "bag-of-tasks", 2)
    with pytest.raises(TypeError, match="2 data but 1 functions"):
        runtime.run_region(spec, [1, 2], [str])


def test_missing_pattern_files_are_not_needed_for_sequential_runs(runtime: Any) -> None:
    spec = region(runtime, "data_parallel_region", "mapreduce", 1)
    assert runtime.run_region(spec, [1, 2], double) == [2, 4]
    assert f"toreador_runtime.{Path(runtime.__file__).stem}" in ENGINES.values()
