"""The REST data path over real HTTP: the service on 127.0.0.1, analyse --api through it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .helpers import BATTERY_FAILS, DEAD_NOON, FINE, row, run_module, write_csv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("rest")
    rows = [row("G2", "2017-06-04T12:00:00Z", DEAD_NOON)]
    for minute in range(9 * 60, 13 * 60):
        time_ = f"2017-06-04T{minute // 60:02d}:{minute % 60:02d}:00Z"
        rows.append(row("G1", time_, BATTERY_FAILS if minute % 37 == 0 else FINE))
    data = write_csv(folder / "data.csv", rows)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mtbf_example", "serve", str(data), "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/api/gateways", timeout=1)
            break
        except httpx.HTTPError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.2)
    yield url, data
    process.terminate()
    process.wait(timeout=10)


def test_api_shape(service: tuple[str, Path]) -> None:
    url, _ = service
    assert httpx.get(f"{url}/api/gateways").json() == {"gateways": ["G1", "G2"]}
    sensors = httpx.get(f"{url}/api/gateways/G1/sensors").json()["sensors"]
    assert [s["measure"] for s in sensors] == ["pcons", "pbatt", "pdc", "soc"]
    readings = httpx.get(
        f"{url}/api/sensors/G1:pbatt/readings",
        params={"start": "2017-06-04T09:00:00Z", "end": "2017-06-04T09:02:00Z"},
    ).json()["readings"]
    assert readings == [
        ["2017-06-04T09:00:00Z", 0.5],
        ["2017-06-04T09:01:00Z", 0.5],
        ["2017-06-04T09:02:00Z", 0.5],
    ]
    assert httpx.get(f"{url}/api/gateways/NOPE/sensors").status_code == 404
    assert (
        httpx.get(f"{url}/api/sensors/G1:pbatt/readings", params={"start": "soon"}).status_code
        == 400
    )


@pytest.mark.parametrize("options", [[], ["--start", "2017-06-04T10:00:00Z", "--gateway", "G1"]])
def test_analyse_through_the_api_equals_the_files(
    service: tuple[str, Path], options: list[str]
) -> None:
    url, data = service
    through_api = run_module("analyse", "--api", url, *options)
    from_files = run_module("analyse", str(data), *options)
    assert through_api.returncode == 0, through_api.stderr
    assert through_api.stdout == from_files.stdout
    assert "For Gateway G1" in through_api.stdout


def test_results_are_posted_back(service: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = service
    posted = run_module("analyse", "--api", url, "--post", "--json", str(tmp_path / "r.json"))
    assert posted.returncode == 0, posted.stderr
    number = int(posted.stderr.strip().rsplit(" ", 1)[1])
    stored = httpx.get(f"{url}/api/results/{number}").json()
    assert stored == json.loads((tmp_path / "r.json").read_text())
    assert httpx.post(f"{url}/api/results", content=b"[1, 2]").status_code == 422
    assert httpx.post(f"{url}/api/results", content=b"x" * 1_000_001).status_code == 413


def test_unreachable_service_is_a_clean_error() -> None:
    result = run_module("analyse", "--api", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: http://127.0.0.1:")
    assert "Traceback" not in result.stderr
