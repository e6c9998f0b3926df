"""The queue of runs: a bounded pool of run slots (the machine's cores), positions for the
page, results kept a while for the page to fetch.

Runs are the expensive requests (two programs, each up to the time limit), so they wait here
in order instead of being refused; compiles never wait behind them (they are served by the
web server's own threads, not by these slots). Each slot is a thread that takes the next run
and executes it as that slot (the sandbox gives every slot its own uid).
"""

from __future__ import annotations

import secrets
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Job = Callable[[int], dict[str, Any]]  # runs as the given slot; the answer to show


class QueueFull(Exception):
    """More runs waiting than the queue holds: HTTP 429."""


@dataclass
class _Entry:
    job: Job
    state: str = "queued"  # queued, running, done
    answer: dict[str, Any] | None = None
    finished: float = 0.0


class RunQueue:
    """``slots`` runs at once, at most ``capacity`` waiting; a finished run's answer is kept
    ``keep_seconds`` for the page to fetch."""

    def __init__(self, slots: int, capacity: int = 100, keep_seconds: float = 600.0) -> None:
        self.slots, self.capacity, self.keep_seconds = slots, capacity, keep_seconds
        self.entries: dict[str, _Entry] = {}
        self.waiting: deque[str] = deque()
        self.lock = threading.Condition()
        self.closed = False
        self.threads = [
            threading.Thread(target=self._serve, args=(slot,), daemon=True, name=f"run-slot-{slot}")
            for slot in range(slots)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, job: Job) -> str:
        """Queue ``job``; its id."""
        with self.lock:
            self._forget_old()
            if len(self.waiting) >= self.capacity:
                raise QueueFull(f"{len(self.waiting)} runs are waiting; try again later")
            # unguessable (192 random bits): an id is the only key to a run's result
            key = secrets.token_urlsafe(24)
            self.entries[key] = _Entry(job)
            self.waiting.append(key)
            self.lock.notify()
            return key

    def status(self, key: str) -> dict[str, Any] | None:
        """``{"id", "state"}``, with ``position`` (1: next to start) while queued and
        ``result`` once done; None for an unknown or forgotten id."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            answer: dict[str, Any] = {"id": key, "state": entry.state}
            if entry.state == "queued":
                answer["position"] = self.waiting.index(key) + 1
            elif entry.state == "done":
                answer["result"] = entry.answer
            return answer

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def _serve(self, slot: int) -> None:
        while True:
            with self.lock:
                while not self.waiting and not self.closed:
                    self.lock.wait()
                if self.closed:
                    return
                key = self.waiting.popleft()
                entry = self.entries[key]
                entry.state = "running"
            try:
                answer = entry.job(slot)
            except Exception as error:  # a bug in toreador: said so on the page, queue goes on
                traceback.print_exception(error, file=sys.stderr)
                answer = {"ok": False, "error": f"the run failed inside toreador: {error!r}"}
            with self.lock:
                entry.answer, entry.state, entry.finished = answer, "done", time.monotonic()

    def _forget_old(self) -> None:
        limit = time.monotonic() - self.keep_seconds
        for key in [k for k, e in self.entries.items() if e.state == "done" and e.finished < limit]:
            del self.entries[key]
