"""The REST data path over real HTTP: the service on 127.0.0.1, analyse --api through it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .helpers import (
    BATTERY_FAILS,
    DEAD_NOON,
    FINE,
    free_port,
    row,
    run_module,
    serving,
    serving_process,
    write_csv,
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("rest")
    rows = [row("G2", "2017-06-04T12:00:00Z", DEAD_NOON)]
    for minute in range(9 * 60, 13 * 60):
        time_ = f"2017-06-04T{minute // 60:02d}:{minute % 60:02d}:00Z"
        rows.append(row("G1", time_, BATTERY_FAILS if minute % 37 == 0 else FINE))
    data = write_csv(folder / "data.csv", rows)
    with serving(data) as url:
        yield url, data


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
    json_type = {"content-type": "application/json"}
    assert httpx.post(f"{url}/api/results", content=b"[1, 2]", headers=json_type).status_code == 422
    too_big = httpx.post(f"{url}/api/results", content=b"x" * 1_000_001, headers=json_type)
    assert too_big.status_code == 413


def test_unreachable_service_is_a_clean_error() -> None:
    result = run_module("analyse", "--api", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: http://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_a_long_series_comes_in_pages(service: tuple[str, Path]) -> None:
    url, _ = service
    whole = httpx.get(f"{url}/api/sensors/G1:soc/readings").json()
    assert whole["next"] is None and len(whole["readings"]) == 4 * 60
    pages, path = [], f"{url}/api/sensors/G1:soc/readings?limit=100&end=2017-06-04T12:30:00Z"
    while path:
        body = httpx.get(path).json()
        pages.append(body["readings"])
        path = f"{url}{body['next']}" if body["next"] else ""
    assert [len(p) for p in pages] == [100, 100, 11]
    assert [r for page in pages for r in page] == whole["readings"][:211]
    sensors = httpx.get(f"{url}/api/gateways/G1/sensors").json()
    assert (sensors["first"], sensors["last"]) == ("2017-06-04T09:00:00Z", "2017-06-04T12:59:00Z")
    assert httpx.get(f"{url}/api/sensors/G1:soc/readings?limit=0").status_code == 400


FLAGSHIP = Path(__file__).resolve().parents[2] / "mtbf_example" / "mtbf.py"


@pytest.mark.parametrize("options", [[], ["--verbose", "--start", "2017-06-04T10:00:00Z"]])
def test_the_flagship_fetches_each_gateway_through_the_api(
    service: tuple[str, Path], options: list[str], tmp_path: Path
) -> None:
    from tests.helpers import compile_into, run_script

    url, data = service
    from_files = run_module("analyse", str(data), *options)
    sequential = run_script(FLAGSHIP, "--api", url, *options)
    assert sequential.returncode == 0, sequential.stderr
    assert sequential.stdout == from_files.stdout
    out = compile_into(FLAGSHIP, tmp_path / "out")
    compiled = run_script(out / "Main.py", "--api", url, *options)
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout == from_files.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--gateway", "NOPE"], "error: unknown gateway(s) NOPE at http://127.0.0.1:"),
        (["--start", "soon"], "error: --start: unparsable time 'soon'"),
    ],
)
def test_bad_requests_through_the_api_are_clean_errors(
    service: tuple[str, Path], options: list[str], message: str
) -> None:
    from tests.helpers import run_script

    url, _ = service
    result = run_script(FLAGSHIP, "--api", url, *options)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and "Traceback" not in result.stderr


def test_a_connection_dropped_mid_answer_is_a_clean_error(tmp_path: Path) -> None:
    """A service that lists its gateways and sensors, then drops the connection half-way
    through a gateway's readings: the run names the gateway and prints no report, run as
    written and compiled."""
    import socketserver
    import threading

    from tests.helpers import compile_into, run_script

    class Dropping(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request = self.rfile.readline().decode()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            path = request.split()[1]
            if path.startswith("/api/gateways/"):
                sensors = [
                    {"id": f"G9:{m}", "measure": m} for m in ("pcons", "pbatt", "pdc", "soc")
                ]
                body = json.dumps(
                    {
                        "gateway": "G9",
                        "sensors": sensors,
                        "first": "2017-06-04T00:00:00Z",
                        "last": "2017-06-04T00:09:00Z",
                    }
                ).encode()
            elif path.startswith("/api/gateways"):
                body = json.dumps({"gateways": ["G9"]}).encode()
            else:  # the readings: promise 5000 bytes, send 20, hang up
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                self.wfile.write(b"Content-Length: 5000\r\n\r\n" + b'{"readings": [["2017')
                return
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Dropping)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        out = compile_into(FLAGSHIP, tmp_path / "out")
        for program in (FLAGSHIP, out / "Main.py"):
            result = run_script(program, "--api", url)
            assert result.returncode == 2, result.stderr
            assert result.stdout == ""
            assert result.stderr.startswith(f"error: {url}: gateway G9: ")
            assert "Traceback" not in result.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_times_in_any_iso_form_are_the_same_minutes() -> None:
    """The service's own form is parsed by numpy, any other ISO-8601 form (an offset, a
    fraction of a second) by pandas; both give the same minutes, and a time off a whole
    minute is refused by name."""
    from mtbf_example.errors import MtbfError
    from mtbf_example.service import _minutes

    own = _minutes(["2017-06-01T00:00:00Z", "2017-06-01T00:01:00Z"], "here")
    other = _minutes(["2017-06-01T02:00:00+02:00", "2017-06-01T00:01:00.000Z"], "here")
    assert own.tolist() == other.tolist() == [24937920, 24937921]
    with pytest.raises(MtbfError, match="here: a reading's time is not on a whole minute"):
        _minutes(["2017-06-01T00:00:30Z"], "here")
    with pytest.raises(MtbfError, match="here: a reading's time is not on a whole minute"):
        _minutes(["2017-06-01T00:00:00.5+00:00"], "here")
    with pytest.raises(MtbfError, match="here: readings not in time order"):
        _minutes(["2017-06-01T00:01:00Z", "2017-06-01T00:00:00Z"], "here")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-01-01", "is outside the times this tool counts"),
        ("0001-01-01", "is outside the times this tool counts"),
        ("", "an empty time"),
        ("nan", "'nan' is not a time"),
        ("NaT", "'NaT' is not a time"),
    ],
)
def test_times_out_of_range_or_empty_are_refused(
    service: tuple[str, Path], value: str, message: str
) -> None:
    url, data = service
    answer = httpx.get(f"{url}/api/sensors/G1:pbatt/readings", params={"start": value})
    assert answer.status_code == 400 and message in answer.json()["error"]
    analysed = run_module("analyse", str(data), "--start", value)
    assert analysed.returncode == 2 and message in analysed.stderr
    assert "Traceback" not in analysed.stderr and len(analysed.stderr.splitlines()) == 1


def test_a_huge_result_body_is_refused_without_reading_it(tmp_path: Path) -> None:
    """300 MB sent without a length: refused once past the cap; the service's memory stays
    near where it was (it read 300 MB first once, 773 MB at its peak)."""
    import psutil

    data = write_csv(tmp_path / "data.csv", [row("G1", "2017-06-04T12:00:00Z", FINE)])
    with serving_process(data) as (url, process):
        before = psutil.Process(process.pid).memory_info().rss

        def chunks() -> Iterator[bytes]:
            for _ in range(300):
                yield b" " * 1_000_000

        try:
            answer = httpx.post(
                f"{url}/api/results",
                content=chunks(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
            assert answer.status_code == 413
        except httpx.HTTPError:
            pass  # the service answered and closed while the rest was still being sent
        grown = psutil.Process(process.pid).memory_info().rss - before
        assert grown < 100 * 1024 * 1024, grown


def test_posts_need_the_token_and_a_json_type(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data.csv", [row("G1", "2017-06-04T12:00:00Z", FINE)])
    report = {"G1": {"battery": {"mtbf": None}, "solar": {"mtbf": None}}}
    env = {**os.environ, "MTBF_SERVICE_TOKEN": "s3cret-token"}
    with serving_process(data, env=env) as (url, _):
        assert httpx.post(f"{url}/api/results", json=report).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert httpx.post(f"{url}/api/results", json=report, headers=wrong).status_code == 401
        right = {"authorization": "Bearer s3cret-token"}
        posted = httpx.post(f"{url}/api/results", json=report, headers=right)
        assert posted.status_code == 201
        plain = {**right, "content-type": "text/plain"}
        as_text = httpx.post(f"{url}/api/results", content=json.dumps(report), headers=plain)
        assert as_text.status_code == 415
        number = posted.json()["id"]
        assert httpx.get(f"{url}/api/results/{number}").json() == report
    refused = run_module("serve", str(data), "--host", "0.0.0.0", "--port", str(free_port()))
    assert refused.returncode == 2
    assert "needs a token for POST /api/results" in refused.stderr


def test_only_the_last_results_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from mtbf_example import service

    monkeypatch.setattr(service, "KEPT_RESULTS", 3)
    data = write_csv(tmp_path / "data.csv", [row("G1", "2017-06-04T12:00:00Z", FINE)])
    client = TestClient(service.create_app(data))
    report = {"G1": {"battery": {}, "solar": {}}}
    numbers = [client.post("/api/results", json=report).json()["id"] for _ in range(5)]
    assert numbers == [1, 2, 3, 4, 5]
    assert [client.get(f"/api/results/{n}").status_code for n in numbers] == [404] * 2 + [200] * 3
