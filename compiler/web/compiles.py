"""Where the web compiler's compiles run, in what order, for how long, and the answers it
remembers.

A compile is CPU-bound Python: threads would share one core, so compiles run in worker
processes (spawned, not forked: the server has threads), one per core, plus one kept for
small programs. Each compile has a time limit: past it, its worker is killed and replaced,
and the request is answered with the limit. Waiting compiles are taken smallest first: a
compile's cost grows with the program's size, so a 4-line program does not wait behind
half-megabyte ones (four of those once kept it waiting 20 s), and the small programs' lane
serves it even while every other worker is busy.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T", bound=Hashable)
R = TypeVar("R")

COMPILE_SECONDS = 30.0  # a 500 KB program (the body limit) compiles in about 17 s here
SMALL_SOURCE = 16 * 1024  # what the small programs' lane takes


class CompileTimeout(Exception):
    """A compile that passed the time limit (its worker was stopped)."""


@dataclass(order=True)
class _Job:
    size: int
    number: int
    function: Callable[[Any], Any] = field(compare=False)
    argument: Any = field(compare=False)
    future: Future[Any] = field(compare=False)


class _Worker:
    """One compile process, started when first needed and again after a time-out."""

    def __init__(self) -> None:
        self.process: Any = None
        self.connection: Connection | None = None

    def call(self, job: _Job, seconds: float) -> Any:
        if self.process is None or not self.process.is_alive():
            self._start()
        assert self.connection is not None
        self.connection.send((job.function, job.argument))
        if not self.connection.poll(seconds):
            self.stop()
            raise CompileTimeout(
                f"the compile took longer than {seconds:.0f} s and was stopped (a program this "
                "server compiles in time is smaller or less deeply nested)"
            )
        succeeded, value = self.connection.recv()
        if succeeded:
            return value
        raise value

    def _start(self) -> None:
        ours, theirs = get_context("spawn").Pipe()
        self.process = get_context("spawn").Process(
            target=_serve, args=(theirs,), daemon=True, name="toreador-compile"
        )
        self.process.start()
        theirs.close()
        self.connection = ours

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
        if self.connection is not None:
            self.connection.close()
        self.process = self.connection = None


def _serve(connection: Connection) -> None:
    """A compile process: calls until the server closes the pipe."""
    while True:
        try:
            function, argument = connection.recv()
        except (EOFError, OSError):
            return
        try:
            connection.send((True, function(argument)))
        except Exception as error:  # the server shows it as a bug in toreador
            connection.send((False, error))


class CompilePool:
    """Where compiles run: ``processes`` worker processes and the small programs' lane, or
    the server's threads (0: no time limit, for tests and one-user use). The last
    ``remembered`` answers are kept by request: a team compiling the same program (or a
    page asking for the zip of what it just compiled) is answered without compiling."""

    def __init__(
        self, processes: int, remembered: int = 64, seconds: float = COMPILE_SECONDS
    ) -> None:
        self.processes, self.remembered, self.seconds = processes, remembered, seconds
        self.answers: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()
        self.waiting: list[_Job] = []
        self.numbers = itertools.count()
        self.ready = threading.Condition()
        self.closed = False
        self.workers: list[tuple[_Worker, int]] = []  # and the largest source it takes
        self.threads: list[threading.Thread] = []

    def submit(self, function: Callable[[T], R], argument: T) -> Future[R]:
        """``function(argument)`` in a worker process (smallest sources first): its future."""
        future: Future[R] = Future()
        size = len(getattr(argument, "source", ""))
        with self.ready:
            if not self.threads:
                self._start_workers()
            heapq.heappush(self.waiting, _Job(size, next(self.numbers), function, argument, future))
            self.ready.notify_all()
        return future

    async def call(self, function: Callable[[T], R], argument: T) -> R:
        key = (function.__name__, argument)
        if key in self.answers:
            self.answers.move_to_end(key)
            remembered: R = self.answers[key]
            return remembered
        if self.processes == 0:
            answer = await run_in_threadpool(function, argument)
        else:
            answer = await asyncio.wrap_future(self.submit(function, argument))
        self.answers[key] = answer
        while len(self.answers) > self.remembered:
            self.answers.popitem(last=False)
        return answer

    def run(self, function: Callable[[T], R], argument: T) -> R:
        """``call`` for a thread that may wait (a run slot's compile)."""
        if self.processes == 0:
            return function(argument)
        return self.submit(function, argument).result()

    def _start_workers(self) -> None:
        lanes = [(_Worker(), -1) for _ in range(self.processes)]
        self.workers = [*lanes, (_Worker(), SMALL_SOURCE)]
        for worker, largest in self.workers:
            thread = threading.Thread(
                target=self._feed, args=(worker, largest), daemon=True, name="compile-lane"
            )
            thread.start()
            self.threads.append(thread)

    def _feed(self, worker: _Worker, largest: int) -> None:
        """A worker's thread: the smallest waiting job it may take, until the pool closes."""
        while True:
            with self.ready:
                while not self.closed and not (
                    self.waiting and (largest < 0 or self.waiting[0].size <= largest)
                ):
                    self.ready.wait()
                if self.closed:
                    worker.stop()
                    return
                job = heapq.heappop(self.waiting)
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                job.future.set_result(worker.call(job, self.seconds))
            except BaseException as error:
                job.future.set_exception(error)

    def close(self) -> None:
        with self.ready:
            self.closed = True
            for job in self.waiting:
                job.future.cancel()
            self.waiting.clear()
            self.ready.notify_all()
