"""Everything one run of a program creates on the Docker engine: the image (found or built),
the shared volume, the Redis queue, the worker containers; and their removal at exit, also
after a failure, Ctrl-C or SIGTERM (found by the run's label). The image is kept as a cache.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import itertools
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .docker_image import DockerEngineError, ImageBuilder, progress
from .docker_run import SHARED_TEMP
from .docker_transport import (
    DATA,
    IN_CONTAINER,
    QueueTransport,
    Transport,
    VolumeTransport,
    is_local_engine,
)
from .driver import MadeOnce
from .output import keep_library_records

if TYPE_CHECKING:
    from .docker_run import Region

HERE = Path(__file__).resolve().parent.parent  # the generated folder
# container starts asked of the engine at once (a 2-core engine gains nothing beyond four)
STARTS_AT_ONCE = 4

# Where the image keeps the program, and container folders a host path must not cover.
APP = "/opt/toreador/app"
_SYSTEM_PATHS = (
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/opt",
    "/opt/toreador",
    "/proc",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
    "/tmp",
    "/home",
    "/root",
)


def host_paths(cwd: str, arguments: list[str]) -> list[str]:
    """The folders a kernel may open files in, as the sequential program would: the working
    directory, and every existing path the command line names (a file: its folder). A path
    inside another is covered by it; a system folder of the container is never covered."""
    wanted = [cwd]
    for argument in arguments:
        candidate = argument.partition("=")[2] if argument.startswith("-") else argument
        if candidate and os.path.exists(candidate):
            path = os.path.abspath(candidate)
            wanted.append(path if os.path.isdir(path) else os.path.dirname(path))
    chosen: list[str] = []
    for path in sorted(
        {os.path.realpath(p) for p in wanted}, key=lambda p: (len(p), p)
    ):
        if path in _SYSTEM_PATHS or path.startswith(APP):
            continue
        if not any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen):
            chosen.append(path)
    return chosen


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DockerEngine:
    """Everything one run creates on the Docker engine, and its removal."""

    def __init__(self, region: Region) -> None:
        try:
            docker = importlib.import_module("docker")  # the SDK has no type hints
        except ImportError as error:
            raise SystemExit(
                f"toreador: {region.label}: the docker target needs the Docker SDK and the "
                f"Redis client where Main.py runs (pip install docker redis): {error}"
            ) from None
        _quiet_engine_records()
        self.docker = docker
        self.settings = region
        self.host = os.environ.get("TOREADOR_DOCKER_HOST") or region.docker_host
        shown = self.host or os.environ.get("DOCKER_HOST") or "the default socket"
        try:
            self.client = (
                docker.DockerClient(base_url=self.host)
                if self.host
                else docker.from_env()
            )
            self.client.ping()
        except Exception as error:
            raise SystemExit(
                f"toreador: {region.label}: cannot reach the Docker engine at {shown}: {error}"
            ) from None
        # the engine runs on this machine: it can mount a folder of it and reach its loopback
        self.local = is_local_engine(self.host or os.environ.get("DOCKER_HOST", ""))
        # a worker group sent to another engine by the model (edge): it shares no folder
        # with this machine, so its batches always go through the queue
        self.edge = bool(self.host)
        self.external = os.environ.get("TOREADOR_DOCKER_WORKERS") == "external"
        self.run_id = f"toreador-{uuid.uuid4().hex[:10]}"
        self.labels = {"toreador.run": self.run_id, "toreador.program": region.app_name}
        self.containers: list[Any] = []
        self.numbers = itertools.count()
        self.pools: dict[str, list[Any]] = {}
        self.transports: dict[str, Transport] = {}
        self.volume: Any = None
        self.folder: Path | None = None
        self.closed = False
        self.lock = threading.Lock()
        # the engine creates and starts containers concurrently: one at a time, each costs
        # the run about 0.3 s of waiting (create, then start) before the next is asked for
        self.starter = ThreadPoolExecutor(STARTS_AT_ONCE, "toreador-docker-start")
        atexit.register(self.close)
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        ):
            signal.signal(signal.SIGTERM, _terminate)
        base = os.environ.get("TOREADOR_DOCKER_BASE_IMAGE") or region.base_image
        builder = ImageBuilder(
            self.client, docker, HERE, region.label, region.app_name, self.local
        )
        self.image = "" if self.external else builder.image(base)
        self.host_paths = (
            host_paths(os.getcwd(), [*sys.argv[1:], SHARED_TEMP])
            if self.local and not self.edge and region.mount_host_paths
            else []
        )

    # the shared volume and the queue
    def transport(self, kind: str) -> Transport:
        with self.lock:
            if kind not in self.transports:
                self.transports[kind] = (
                    self._volume_transport()
                    if kind == "volume"
                    else self._queue_transport()
                )
            return self.transports[kind]

    def _volume_transport(self) -> VolumeTransport:
        """A named volume backed by a temporary folder of this machine."""
        # beside the program's shared temporary folder, not in it (that one is read-only)
        parent = os.path.dirname(SHARED_TEMP) if SHARED_TEMP else None
        self.folder = Path(tempfile.mkdtemp(prefix="toreador-volume-", dir=parent))
        transport = VolumeTransport(self.folder)
        for folder in (self.folder, *self.folder.iterdir()):
            folder.chmod(0o777)  # the workers run as an unprivileged user of their own
        self.volume = self.client.volumes.create(
            name=f"{self.settings.volume}-{self.run_id.removeprefix('toreador-')}",
            driver="local",
            driver_opts={"type": "none", "o": "bind", "device": str(self.folder)},
            labels=self.labels,
        )
        return transport

    def _queue_transport(self) -> QueueTransport:
        """The model's Redis (or TOREADOR_REDIS_URL), else one started here in a container."""
        url = os.environ.get("TOREADOR_REDIS_URL") or self.settings.redis_url
        prefix = (
            f"toreador-{self.settings.app_name.removeprefix('toreador-')}"
            if self.external
            else self.run_id
        )
        if not url:
            if self.edge or not self.local:
                raise DockerEngineError(
                    f"{self.settings.label}: the worker group runs on another Docker host "
                    f"({self.host or os.environ.get('DOCKER_HOST')}): give the model a "
                    "redis_url that both this machine and that host can reach"
                )
            port = _free_port()
            progress(
                f"starting Redis ({self.settings.redis_image}) on 127.0.0.1:{port}"
            )
            self._start(
                self.settings.redis_image,
                [
                    "redis-server",
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                name=f"{self.run_id}-redis",
                network_mode="host",
                environment={},
                volumes={},
            )
            url = f"redis://127.0.0.1:{port}/0"
        transport = QueueTransport(url, prefix)
        deadline = time.monotonic() + 30
        while True:
            try:
                transport.redis.ping()
                return transport
            except Exception as error:
                if time.monotonic() > deadline:
                    raise DockerEngineError(
                        f"{self.settings.label}: Redis at {url} did not answer: {error}"
                    ) from None
                time.sleep(0.05)

    # containers
    def _start(
        self,
        image: str,
        command: list[str],
        name: str,
        network_mode: str,
        environment: dict[str, str],
        volumes: dict[str, dict[str, str]],
    ) -> Any:
        cpus = max(1, self.settings.cpus)
        # with the host's folders mounted, a worker runs as the user running Main.py (it
        # opens what that user can open, as the reference does) in Main.py's working
        # directory when that is mounted
        mounted = any(value["bind"] != DATA for value in volumes.values())
        where: dict[str, str] = (
            {"user": f"{os.getuid()}:{os.getgid()}"} if mounted else {}
        )
        if mounted and os.getcwd() in self.host_paths:
            where["working_dir"] = os.getcwd()
        try:
            container = self.client.containers.run(
                image,
                command,
                name=name,
                detach=True,
                labels=self.labels,
                network_mode=network_mode,
                environment=environment,
                volumes=volumes,
                nano_cpus=cpus * 1_000_000_000,
                mem_limit=self.settings.memory,
                **where,
            )
        except self.docker.errors.DockerException as error:
            raise DockerEngineError(
                f"{self.settings.label}: the Docker engine could not start container {name} "
                f"from {image}: {error}"
            ) from None
        self.containers.append(container)
        return container

    def network_for(self, kind: str) -> str:
        return self.settings.network_mode or ("host" if kind == "queue" else "none")

    def start_worker(self, kind: str, one_batch: bool) -> Any:
        transport = self.transport(kind)
        number = next(self.numbers)
        name = f"{self.run_id}-{'item' if one_batch else 'worker'}-{number}"
        environment = {
            **transport.worker_environment(),
            "TOREADOR_WORKER": name,  # whose claims are whose, if it dies
            IN_CONTAINER: "1",
            "TOREADOR_CPUS": str(self.settings.cpus),
            "TOREADOR_MAX_BATCHES": "1" if one_batch else "0",
        }
        volumes = (
            {self.volume.name: {"bind": DATA, "mode": "rw"}} if kind == "volume" else {}
        )
        volumes.update({path: {"bind": path, "mode": "ro"} for path in self.host_paths})
        return self._start(
            self.image,
            ["python3", f"{APP}/docker_worker.py"],
            name,
            self.network_for(kind),
            environment,
            volumes,
        )

    def start_worker_soon(self, kind: str, one_batch: bool) -> Future[Any]:
        """``start_worker`` on the engine's starting threads: the container, when started."""
        return self.starter.submit(self.start_worker, kind, one_batch)

    def pool(self, kind: str) -> list[Any]:
        """The long-lived worker containers of a transport, started once per run."""
        with self.lock:
            started = kind in self.pools
        if not started and not self.external:
            replicas = self.settings.replicas
            progress(
                f"starting {replicas} worker container(s) ({kind}, image {self.image})"
            )
            starting = [
                self.start_worker_soon(kind, one_batch=False) for _ in range(replicas)
            ]
            workers = [future.result() for future in starting]
            with self.lock:
                self.pools[kind] = workers
        return self.pools.get(kind, [])

    def failed_container(self, containers: list[Any]) -> tuple[Any, str] | None:
        """A container that ended badly, and its last log lines. One-item containers that
        ended well are removed on the way (and dropped from ``containers``)."""
        for container in list(containers):
            try:
                container.reload()
            except self.docker.errors.NotFound:
                return container, "(the container is gone)"
            state = container.attrs.get("State", {})
            if container.status in ("exited", "dead") and state.get("ExitCode", 0) != 0:
                logs = container.logs(tail=30).decode("utf-8", "replace")
                why = (
                    (
                        f" (killed at its memory limit, {self.settings.memory}: raise "
                        "memory_per_worker in the model)"
                    )
                    if state.get("OOMKilled")
                    else ""
                )
                return container, f"exit code {state.get('ExitCode')}{why}\n{logs}"
            if container.status == "exited" and "-item-" in container.name:
                containers.remove(container)
                self.containers.remove(container)
                container.remove(force=True)
        return None

    def discard(self, container: Any) -> None:
        """Remove a dead worker container (its claims are the driver's business)."""
        if container in self.containers:
            self.containers.remove(container)
        with contextlib.suppress(self.docker.errors.DockerException):
            container.remove(force=True)

    def close(self) -> None:
        """Remove every container, the volume and the folder this run created (not the
        image: it is the cache of the next run). Safe to call twice."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        # starts not begun are dropped; those under way end before the sweep below
        self.starter.shutdown(wait=True, cancel_futures=True)
        queue = self.transports.get("queue")
        if isinstance(queue, QueueTransport) and not self.external:
            try:
                queue.close()
            except Exception as error:
                progress(f"could not clear this run's queue: {error}")
        # what this run made, known here or found by its label: a call interrupted by Ctrl-C
        # may have created a container or the volume before it could answer (swept twice:
        # the daemon may finish such a creation while the first sweep removes)
        known = list(self.containers)
        for _ in range(2):
            self._sweep(known)
            known = []
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(Exception):
            self.client.close()

    def _sweep(self, known: list[Any]) -> None:
        mine = {"label": f"toreador.run={self.run_id}"}
        containers = {container.id: container for container in known}
        volumes = [self.volume] if self.volume is not None else []
        try:
            for container in self.client.containers.list(
                all=True, sparse=True, filters=mine
            ):
                containers.setdefault(container.id, container)
            volumes += [
                v
                for v in self.client.volumes.list(filters=mine)
                if self.volume is None or v.name != self.volume.name
            ]
        except Exception as error:
            progress(f"could not list what this run created: {error}")

        def remove(container: Any) -> None:
            try:
                container.remove(force=True)
            except Exception as error:
                if not isinstance(error, self.docker.errors.NotFound):
                    progress(
                        f"could not remove container {container.short_id}: {error}"
                    )

        # plain threads: this also runs at interpreter exit, when executors refuse new work
        removals = [
            threading.Thread(target=remove, args=(c,)) for c in containers.values()
        ]
        for removal in removals:
            removal.start()
        for removal in removals:
            removal.join()
        for volume in volumes:
            try:
                volume.remove(force=True)
            except Exception as error:
                if not isinstance(error, self.docker.errors.NotFound):
                    progress(f"could not remove volume {volume.name}: {error}")
        self.volume = None


# a request to the Docker engine's API, as urllib3 logs it ('%s://%s:%s "%s %s %s" %s %s')
_ENGINE_API = re.compile(r"/(v\d+\.\d+/|version$|_ping$)")


class _EngineRequests(logging.Filter):
    """Drops urllib3's records of the Docker SDK's own requests to the engine's API: with a
    program that logs DEBUG to stdout, they would land in its output. The program's own
    requests (another host, another path) still reach its handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (
            isinstance(args, tuple)
            and len(args) >= 5
            and isinstance(args[4], str)
            and _ENGINE_API.match(args[4]) is not None
            and (args[2] is None or str(args[1]) in ("localhost", "127.0.0.1"))
        )


def _quiet_engine_records() -> None:
    """The engine's own libraries never write to the program's handlers: the Docker SDK's
    records stop at its logger (``output.keep_library_records``), urllib3's records of its
    requests are dropped."""
    keep_library_records("docker")
    pool = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _EngineRequests) for f in pool.filters):
        pool.addFilter(_EngineRequests())


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM ends the run as Ctrl-C does: through the clean-up."""
    raise SystemExit(128 + signum)


_ENGINE: MadeOnce[DockerEngine] = MadeOnce()


def engine(region: Region) -> DockerEngine:
    """The run's engine, made at the first region that runs."""
    return _ENGINE.get(lambda: DockerEngine(region))
