"""The queue of runs: a bounded pool of run slots (the machine's cores), positions for the
page, results kept a while for the page to fetch.

Runs are the expensive requests (two programs, each up to the time limit), so they wait here
in order instead of being refused; compiles never wait behind them (they are served by the
web server's own threads, not by these slots). Each slot is a thread that takes the next run
and executes it as that slot (the sandbox gives every slot its own uid).
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
import traceback
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Job = Callable[[int], dict[str, Any]]  # runs as the given slot; the answer to show


class QueueFull(Exception):
    """More runs waiting than the queue holds: HTTP 429."""


@dataclass
class _Entry:
    job: Job | None  # dropped once it has run
    state: str = "queued"  # queued, running, done
    answer: bytes = b""  # the answer, as zlib-compressed JSON, once done
    started: float = 0.0
    finished: float = 0.0


class RunQueue:
    """``slots`` runs at once, at most ``capacity`` waiting; a finished run's answer is kept
    ``keep_seconds`` for the page to fetch."""

    def __init__(
        self,
        slots: int,
        capacity: int = 100,
        keep_seconds: float = 600.0,
        kept_bytes: int = 64 * 1024 * 1024,
        longest_run: float = 0.0,
    ) -> None:
        """``kept_bytes``: the most the kept answers take, compressed (the oldest go first);
        ``longest_run``: the most one run can take (its two sides' time limits), for the
        wait a queued run is told."""
        self.slots, self.capacity, self.keep_seconds = slots, capacity, keep_seconds
        self.kept_bytes, self.longest_run = kept_bytes, longest_run
        self.durations: deque[float] = deque(maxlen=20)  # the last runs', for the estimate
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
                position = self.waiting.index(key) + 1
                answer["position"] = position
                answer["wait"] = self._wait(position)
            elif entry.state == "done":
                answer["result"] = json.loads(zlib.decompress(entry.answer))
            return answer

    def _wait(self, position: int) -> dict[str, float]:
        """How long a run at ``position`` may wait to start: about (from the last runs'
        durations) and at most (every run before it using its whole time limits), in
        seconds. Called with the lock held."""
        now = time.monotonic()
        running = sorted(
            now - entry.started for entry in self.entries.values() if entry.state == "running"
        )
        rounds = -(-position // self.slots)  # the runs before it, a slot each, in turns
        typical = sorted(self.durations)[len(self.durations) // 2] if self.durations else 1.0
        free_soon = min(running, default=0.0)
        return {
            "about": round(max(0.0, typical - free_soon) + (rounds - 1) * typical, 1),
            "at_most": round(
                max(0.0, self.longest_run - free_soon) + (rounds - 1) * self.longest_run, 1
            ),
        }

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
                entry.state, entry.started = "running", time.monotonic()
                job, entry.job = entry.job, None
            try:
                assert job is not None
                answer = job(slot)
            except Exception as error:  # a bug in toreador: said so on the page, queue goes on
                traceback.print_exception(error, file=sys.stderr)
                answer = {"ok": False, "error": f"the run failed inside toreador: {error!r}"}
            # kept compressed: a run's outputs are up to four capped streams, mostly repeats
            packed = zlib.compress(json.dumps(answer).encode(), 6)
            with self.lock:
                entry.answer, entry.state, entry.finished = packed, "done", time.monotonic()
                self.durations.append(entry.finished - entry.started)
                self._forget_old()

    def _forget_old(self) -> None:
        """Answers past their time go, and the oldest go while the rest is over the cap.
        Called with the lock held."""
        limit = time.monotonic() - self.keep_seconds
        done = sorted(
            ((e.finished, k) for k, e in self.entries.items() if e.state == "done"),
        )
        total = sum(len(self.entries[k].answer) for _, k in done)
        for finished, key in done:
            if finished >= limit and total <= self.kept_bytes:
                break
            total -= len(self.entries[key].answer)
            del self.entries[key]
