"""Running a suggested program once to measure its regions (``suggest --profile``).

Run as ``python -m toreador.compiler.suggest.profile_run RECORD PROGRAM ANNOTATED ARGS...``:
the annotated text is executed as the program itself would be (its path as ``__file__``
and ``argv[0]``, its folder on ``sys.path``), with the primitives replaced by measuring
ones: each region call made from the program's own lines adds its line, its number of
items and the kernel's time on them to RECORD (JSON, written at exit). The primitives keep
their sequential meaning: items in order, one at a time, in this process.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
import types
from collections.abc import Callable
from typing import Any

import toreador
from toreador.runtime.semantics import region_items


def measuring(name: str, program: str, calls: list[dict[str, Any]]) -> Callable[..., list[Any]]:
    """The primitive ``name``, recording each call from ``program``'s lines."""

    def primitive(data: Any, kernel: Any, *replicated: Any) -> list[Any]:
        caller = sys._getframe(1)
        items, run, arguments = region_items(name, data, kernel, replicated)
        values: list[Any] = []
        spent = 0.0
        for item in items:
            started = time.perf_counter()
            values.append(run(item, *arguments))
            spent += time.perf_counter() - started
        if caller.f_code.co_filename == program:
            calls.append({"line": caller.f_lineno, "items": len(values), "seconds": spent})
        return values

    return primitive


def main() -> None:
    record, program, annotated, *arguments = sys.argv[1:]
    calls: list[dict[str, Any]] = []

    def save() -> None:
        with open(record, "w", encoding="utf-8") as out:
            json.dump(calls, out)

    atexit.register(save)
    for name in ("data_parallel_region", "producer_consumer", "bag_of_task"):
        setattr(toreador, name, measuring(name, program, calls))
    with open(annotated, encoding="utf-8") as source:
        code = compile(source.read(), program, "exec")
    sys.argv = [program, *arguments]
    sys.path.insert(0, os.path.dirname(os.path.abspath(program)))
    module = types.ModuleType("__main__")
    module.__file__ = program
    sys.modules["__main__"] = module
    exec(code, module.__dict__)


if __name__ == "__main__":
    main()
