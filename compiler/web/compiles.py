"""Where the web compiler's compiles run, and the answers it remembers."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T", bound=Hashable)
R = TypeVar("R")


class CompilePool:
    """Where compiles run: ``processes`` worker processes (the machine's cores: a compile is
    CPU-bound Python, and threads would share one core), or the server's threads (0). The
    last ``remembered`` answers are kept by request: a team compiling the same program (or
    a page asking for the zip of what it just compiled) is answered without compiling."""

    def __init__(self, processes: int, remembered: int = 64) -> None:
        self.processes, self.remembered = processes, remembered
        self.pool: ProcessPoolExecutor | None = None
        self.answers: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()

    async def call(self, function: Callable[[T], R], argument: T) -> R:
        key = (function.__name__, argument)
        if key in self.answers:
            self.answers.move_to_end(key)
            answer: R = self.answers[key]
            return answer
        if self.processes == 0:
            answer = await run_in_threadpool(function, argument)
        else:
            if self.pool is None:  # spawned, not forked: the server has threads
                self.pool = ProcessPoolExecutor(self.processes, get_context("spawn"))
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(self.pool, function, argument)
        self.answers[key] = answer
        while len(self.answers) > self.remembered:
            self.answers.popitem(last=False)
        return answer

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
