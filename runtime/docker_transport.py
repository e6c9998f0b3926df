"""How batches reach the docker engine's worker containers and how outcomes come back.

Two transports. The shared volume (a folder of this machine mounted at /data in every worker;
works with network_mode none): batches are files the workers claim by renaming them, outcomes
are files written beside them. The queue (Redis): a real bounded list the main program pushes
batches into and the workers pop from; every producer_consumer region uses it, and so does
every region of a worker group on another Docker host, which shares no folder with this one.

Either way a claim lasts until its answer is written: the claimed file stays in claimed/,
the popped batch in the worker's own processing list (LMOVE, Redis's reliable queue). When a
worker container dies, ``lost_claims`` names the batches it held, to be sent again.
"""

from __future__ import annotations

import importlib
import os
import pickle
import time
import uuid
from pathlib import Path
from typing import Any

# set in the image: nested regions run in the container
IN_CONTAINER = "TOREADOR_IN_CONTAINER"


def is_local_engine(host: str) -> bool:
    """Whether the Docker engine at ``host`` (a DOCKER_HOST value) runs on this machine."""
    return (
        not host
        or host.startswith("unix://")
        or host.startswith(("tcp://127.0.0.1", "tcp://localhost"))
    )


DATA = "/data"  # where the shared volume is mounted in the workers
POLL_SECONDS = (
    0.005  # the volume transport's polling step (doubles up to 0.05 s when idle)
)


class VolumeTransport:
    """Batches and outcomes as files in the shared volume: jobs/, inbox/, outbox/, tmp/.
    A file appears by rename only, so nobody ever reads half of one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.held: Path | None = None  # the worker's claim, until answered
        for folder in ("jobs", "inbox", "claimed", "outbox", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def _write(self, folder: str, name: str, payload: bytes) -> None:
        staged = self.root / "tmp" / f"{name}.{uuid.uuid4().hex[:8]}"
        staged.write_bytes(payload)
        os.replace(staged, self.root / folder / name)

    # the main program's side
    def publish_job(self, job: str, payload: bytes) -> None:
        self._write("jobs", job, payload)

    def put(self, job: str, batch: int, payload: bytes) -> None:
        self._write("inbox", f"{job}-{batch:09d}", payload)

    def get(self, job: str, timeout: float) -> tuple[int, bytes] | None:
        deadline, pause = time.monotonic() + timeout, POLL_SECONDS
        prefix = f"{job}-"
        while True:
            for entry in sorted(os.scandir(self.root / "outbox"), key=lambda e: e.name):
                if entry.name.startswith(prefix):
                    payload = Path(entry.path).read_bytes()
                    os.unlink(entry.path)
                    return int(entry.name[len(prefix) :]), payload
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def finish_job(self, job: str) -> None:
        """The job's files dropped. The workers may still be claiming, answering or dropping
        one of them meanwhile: a file gone before its turn is not an error."""
        for folder in ("jobs", "inbox", "outbox", "claimed"):
            for entry in os.scandir(self.root / folder):
                if entry.name.startswith(job):
                    Path(entry.path).unlink(missing_ok=True)

    def lost_claims(self, job: str, worker: str) -> list[int]:
        """The batches of ``job`` a dead ``worker`` had claimed, their claims dropped."""
        lost = []
        for entry in os.scandir(self.root / "claimed"):
            name, _, owner = entry.name.partition(".")
            if owner == worker and name.startswith(f"{job}-"):
                os.unlink(entry.path)
                lost.append(int(name.rpartition("-")[2]))
        return sorted(lost)

    def worker_environment(self) -> dict[str, str]:
        return {"TOREADOR_TRANSPORT": "volume"}

    # the worker's side
    def take(self, worker: str) -> tuple[str, int, bytes]:
        pause = POLL_SECONDS
        while True:
            for entry in sorted(os.scandir(self.root / "inbox"), key=lambda e: e.name):
                claimed = self.root / "claimed" / f"{entry.name}.{worker}"
                try:
                    os.rename(entry.path, claimed)  # atomic: one worker wins each batch
                except FileNotFoundError:
                    continue
                payload = claimed.read_bytes()
                self.held = claimed
                job, _, batch = entry.name.rpartition("-")
                return job, int(batch), payload
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def job(self, job: str) -> bytes:
        return (self.root / "jobs" / job).read_bytes()

    def answer(self, job: str, batch: int, payload: bytes) -> None:
        self._write("outbox", f"{job}-{batch:09d}", payload)
        if self.held is not None:
            self.held.unlink(missing_ok=True)
            self.held = None


class QueueTransport:
    """Batches through a bounded Redis list (LPUSH by the main program, BRPOP by the
    workers), each job's outcomes through a list of its own."""

    def __init__(self, url: str, prefix: str) -> None:
        redis = importlib.import_module("redis")  # untyped use: its sync/async unions
        self.url, self.prefix = url, prefix
        self.redis: Any = redis.Redis.from_url(url)
        self.tasks = f"{prefix}:tasks"
        self.held: bytes | None = None  # the worker's popped batch, until answered

    # the main program's side
    def publish_job(self, job: str, payload: bytes) -> None:
        self.redis.set(f"{self.prefix}:job:{job}", payload)

    def put(self, job: str, batch: int, payload: bytes) -> None:
        self.redis.lpush(self.tasks, pickle.dumps((job, batch, payload), protocol=5))

    def get(self, job: str, timeout: float) -> tuple[int, bytes] | None:
        answer = self.redis.brpop(
            [f"{self.prefix}:out:{job}"], timeout=max(timeout, 0.01)
        )
        if answer is None:
            return None
        batch, payload = pickle.loads(answer[1])
        return int(batch), payload

    def finish_job(self, job: str) -> None:
        self.redis.delete(f"{self.prefix}:job:{job}", f"{self.prefix}:out:{job}")

    def lost_claims(self, job: str, worker: str) -> list[int]:
        """The batches of ``job`` in a dead ``worker``'s processing list; the list dropped."""
        busy = f"{self.prefix}:busy:{worker}"
        held = [pickle.loads(message) for message in self.redis.lrange(busy, 0, -1)]
        self.redis.delete(busy)
        return sorted(int(batch) for owner_job, batch, _ in held if owner_job == job)

    def close(self) -> None:
        """The run's own task list (left over batches of a failed region), unless the queue
        is an operator's, shared by every run."""
        self.redis.delete(self.tasks)

    def worker_environment(self) -> dict[str, str]:
        return {
            "TOREADOR_TRANSPORT": "queue",
            "TOREADOR_REDIS_URL": self.url,
            "TOREADOR_QUEUE": self.prefix,
        }

    # the worker's side
    def take(self, worker: str) -> tuple[str, int, bytes]:
        # popped into this worker's own list in one step: never lost if the worker dies
        self.busy = f"{self.prefix}:busy:{worker}"
        message = self.redis.blmove(self.tasks, self.busy, 0, "RIGHT", "LEFT")
        self.held = bytes(message)
        job, batch, payload = pickle.loads(message)
        return job, int(batch), payload

    def job(self, job: str) -> bytes:
        payload = self.redis.get(f"{self.prefix}:job:{job}")
        if payload is None:
            raise LookupError(
                f"job {job} is not in the queue's store (the run has ended?)"
            )
        return bytes(payload)

    def answer(self, job: str, batch: int, payload: bytes) -> None:
        answer = pickle.dumps((batch, payload), protocol=5)
        pipe = self.redis.pipeline(
            transaction=True
        )  # the answer and the claim's end at once
        pipe.lpush(f"{self.prefix}:out:{job}", answer)
        if self.held is not None:
            pipe.lrem(self.busy, 1, self.held)
        pipe.execute()
        self.held = None


Transport = VolumeTransport | QueueTransport


def worker_transport() -> Transport:
    """The transport a worker container was started with (its environment says which)."""
    if os.environ.get("TOREADOR_TRANSPORT") == "queue":
        return QueueTransport(
            os.environ["TOREADOR_REDIS_URL"], os.environ["TOREADOR_QUEUE"]
        )
    return VolumeTransport(Path(DATA))
