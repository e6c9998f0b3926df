"""Hand-made readings for the MTBF tests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HEADER = "gateway,time,pcons,pbatt,pdc,soc\n"
FINE = (1.0, 0.5, 2.0, 50.0)  # pcons, pbatt (charging), pdc, soc: no rule fires
BATTERY_FAILS = (1.0, -0.5, 2.0, 80.0)  # solar covers the load, not full, discharging
DEAD_NOON = (1.0, -0.5, 0.0, 50.0)  # no generation (at noon: a solar failure)


def row(gateway: str, time: str, values: tuple[float, float, float, float]) -> str:
    return f"{gateway},{time}," + ",".join(str(v) for v in values) + "\n"


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def run_module(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtbf_example", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(data: Path) -> Iterator[str]:
    """`python -m mtbf_example serve DATA` on 127.0.0.1 and a free port, until the block
    ends: its URL, once it answers."""
    with serving_process(data) as (url, _):
        yield url


@contextmanager
def serving_process(
    data: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``serving`` with more options and an environment: the URL and the process."""
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mtbf_example", "serve", str(data), "--port", str(port),
         *options],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                httpx.get(f"{url}/api/gateways", timeout=1)
                break
            except httpx.HTTPError:
                failed = process.poll() is not None or time.monotonic() > deadline
                assert not failed, process.stderr.read() if process.stderr else ""
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)
