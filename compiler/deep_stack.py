"""Running the compiler's tree walks on a stack deep enough for what CPython runs.

CPython's parser accepts a program nested a few hundred levels deep (150 calls inside one
another, 140 nested brackets, 500 adjacent string literals, which libcst keeps as a chain
of nested nodes). The compiler walks those trees recursively, with libcst's visitors and its
own, and the default recursion limit (1,000 Python frames) ends such a walk with a
RecursionError. So a compile runs in a thread of its own with a large C stack and a raised
recursion limit; a program deeper still is refused with a message, not a traceback.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")

STACK_BYTES = 512 * 1024 * 1024  # reserved address space: pages are used only as touched
RECURSION_LIMIT = 60_000  # about 4 KB of C stack a frame at worst: well inside the above

_LIMIT_LOCK = threading.Lock()
_deep_calls = 0  # compiles under way on deep stacks (they share the interpreter's limit)
_saved_limit = 0


def with_deep_stack(function: Callable[..., R], *arguments: Any) -> R:
    """``function(*arguments)`` in a thread with a deep stack; its result, or its exception."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, function(*arguments)))
        except BaseException as error:  # handed to the caller's thread as it is
            outcome.append((False, error))

    global _deep_calls, _saved_limit
    with _LIMIT_LOCK:
        if _deep_calls == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _deep_calls += 1
        previous = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=run, name="toreador-compile")
            thread.start()
        finally:
            threading.stack_size(previous)
    try:
        thread.join()
    finally:
        with _LIMIT_LOCK:
            _deep_calls -= 1
            if _deep_calls == 0:
                sys.setrecursionlimit(_saved_limit)
    succeeded, value = outcome[0]
    if succeeded:
        result: R = value
        return result
    raise value
