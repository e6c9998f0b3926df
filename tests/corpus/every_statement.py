"""Every statement form of Python 3.11 around a region: the compiler must take them all."""
# type: ignore

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from typing import NamedTuple

from toreador import data_parallel_region

COUNT: int = 3  # an annotated assignment
A, *REST = (1, 2, 3)  # starred unpacking
del REST
assert COUNT == 3, "annotated"


class Point(NamedTuple):
    x: int
    y: int


@dataclasses.dataclass(frozen=True)
class Box:
    width: int = 1


class Meta(type):
    pass


class WithMeta(metaclass=Meta):
    kind = "meta"


def describe(value):  # type: (object) -> str
    match value:
        case 0 | 1:
            return "small"
        case None | True:
            return "singleton"
        case [first, *others] if others:
            return f"sequence from {first}"
        case {"name": str() as name, **rest}:
            return f"mapping {name} {len(rest)}"
        case {}:
            return "empty mapping"
        case Point(x=0, y=y):
            return f"on the axis at {y}"
        case Box(width=w):
            return f"box {w}"
        case str(text) as whole if (size := len(text)) > 2:
            return f"text {whole} of {size}"
        case -1:
            return "minus one"
        case _:
            return "other"


def counter():
    total = 0

    def bump():
        nonlocal total
        total += 1
        return total

    return bump


def generator(n):
    yield from range(n)


async def doubled(n):
    await asyncio.sleep(0)
    return 2 * n


async def agen(values):
    for value in values:
        yield value


async def gather(values):
    results = []
    async with contextlib.AsyncExitStack():
        async for value in agen(values):
            results.append(await doubled(value))
    return results + [v async for v in agen(values) if v]


TOTAL = 0


def accumulate(n):
    global TOTAL
    TOTAL += n
    return TOTAL


def echo():
    received = yield "ready"
    while (received := (yield received)) is not None:
        pass


def spread(*args, **kwargs):
    first, *rest = args or (None,)
    return first, len(rest), sorted(kwargs)


def status(value):
    try:
        number = int(value)
    except ValueError:
        return "not a number"
    else:
        return f"number {number}"
    finally:
        pass


def grouped(errors):
    caught = 0
    try:
        raise ExceptionGroup("many", errors)
    except* ValueError as found:
        caught = len(found.exceptions)
    except* TypeError:
        caught = -1
    return caught


@functools.lru_cache(maxsize=128)
def label(text):
    return text.upper()


def kernel(value):
    return label(describe(value))


def main():
    items = [0, None, [1, 2], {"name": "n", "k": 1}, {}, Point(0, 5), Box(3), "word", -1, 2.5]
    print(data_parallel_region(items, kernel))
    bump = counter()
    bump()
    print(bump(), list(generator(COUNT)), asyncio.run(gather([1, 2])))
    print(grouped([ValueError("a"), ValueError("b")]), WithMeta.kind)
    channel = echo()
    print(next(channel), channel.send("hello"), accumulate(2), accumulate(3))
    print(spread(*[1, 2, 3], **{"b": 1, "a": 2}), status("12"), status("x"))
    for value in range(2):
        if value:
            continue
    else:
        print("loop done")
    while False:
        pass
    else:
        print("while done")
    with contextlib.suppress(KeyError), contextlib.nullcontext() as nothing:
        print("with", nothing)
        raise KeyError("x")
    try:
        raise RuntimeError("outer") from ValueError("inner")
    except RuntimeError as error:
        print(type(error.__cause__).__name__)
    finally:
        print(f"{'finally':>9}", (lambda: 0)(), [v for v in range(3) if v], 1 < 2 < 3)


if __name__ == "__main__":
    main()
