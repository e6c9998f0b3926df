"""The REST data service, shaped like the original system, and its client.

    GET  /api/gateways                               the gateways with readings
    GET  /api/gateways/{gateway}/sensors             its sensor ids (one per measure) and the
                                                     first and last minute of its readings
    GET  /api/sensors/{sensor}/readings?start=&end=&limit=
                                                     a sensor's readings, ISO-8601 bounds, at
                                                     most ``limit`` (default 50,000) a page;
                                                     ``next``: the next page's URL, or null
    POST /api/results                                an MTBF JSON report, stored; 201 + its id
    GET  /api/results/{id}                           a stored report

Bound to 127.0.0.1 by default. A partitioned data set is served a gateway at a time (its
folder read when asked, a few kept): the service's memory does not grow with the number of
homes. Other data is loaded once. ``fetch_gateway`` is the client a worker uses for its own
gateway; ``fetch_readings`` (``analyse --api``) fetches every gateway asked for.
"""

from __future__ import annotations

import hmac
import ipaddress
import itertools
import os
from collections import OrderedDict
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import numpy as np
import numpy.typing as npt
import orjson

from .analysis import Bounds, bounds, gateway_columns, parse_moment, sort_readings
from .errors import MtbfError
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE

MAX_RESULT_BYTES = 1_000_000
KEPT_RESULTS = 1_000  # posted reports kept (the oldest go first)
TOKEN_VARIABLE = "MTBF_SERVICE_TOKEN"  # the writers' token, where --token is not given
SENSOR_SEPARATOR = ":"
PAGE = 50_000  # readings per page by default: about 1.5 MB of JSON
MAX_PAGE = 200_000
CACHED_GATEWAYS = 4

Columns = dict[str, npt.NDArray[Any]]

if TYPE_CHECKING:
    from .data import Readings


class _Store:
    """The readings served: every gateway's columns (minute and measures, time order)."""

    def __init__(self, data: Path) -> None:
        from .dataset import dataset_gateways, is_dataset

        self.dataset = data if is_dataset(data) else None
        self.loaded: dict[str, Columns] = {}
        self.cache: OrderedDict[str, Columns] = OrderedDict()
        self.lock = Lock()
        if self.dataset is not None:
            self.names = dataset_gateways(self.dataset)
            return
        from .data import load_readings  # pandas: only for data that is not a data set

        readings = load_readings(data)
        self.loaded = gateway_columns(sort_readings(readings.frame, readings))
        self.names = sorted(self.loaded)

    def columns(self, gateway: str) -> Columns:
        if self.dataset is None:
            return self.loaded[gateway]
        from .dataset import read_gateway

        with self.lock:
            if gateway in self.cache:
                self.cache.move_to_end(gateway)
                return self.cache[gateway]
        columns = read_gateway(self.dataset, gateway, None, None)
        with self.lock:
            self.cache[gateway] = columns
            while len(self.cache) > CACHED_GATEWAYS:
                self.cache.popitem(last=False)
        return columns


def iso_minutes(minutes: npt.NDArray[np.int64]) -> list[str]:
    """Minutes since the epoch as ISO-8601 with a Z, vectorised."""
    seconds = (minutes * 60).astype("datetime64[s]")
    return [f"{text}Z" for text in np.datetime_as_string(seconds, unit="s").tolist()]


def create_app(data: Path, token: str = "") -> Any:
    """A Starlette app serving the readings under ``data``; with ``token``, a POST must
    carry it (``Authorization: Bearer TOKEN``)."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse as StandardJSON
    from starlette.routing import Route

    class JSONResponse(StandardJSON):
        """Answers encoded by orjson: a page of 50,000 readings is 4x faster than with the
        standard library (the data has no NaN, which orjson would write as null)."""

        def render(self, content: Any) -> bytes:
            return orjson.dumps(content)

    store = _Store(data)
    known = set(store.names)
    results: OrderedDict[int, Any] = OrderedDict()  # id -> report, the last KEPT_RESULTS
    numbers = itertools.count(1)

    def problem(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def list_gateways(request: Request) -> JSONResponse:
        return JSONResponse({"gateways": store.names})

    async def list_sensors(request: Request) -> JSONResponse:
        gateway = request.path_params["gateway"]
        if gateway not in known:
            return problem(404, f"unknown gateway {gateway}")
        try:
            minutes = (await run_in_threadpool(store.columns, gateway))["minute"]
        except MtbfError as error:
            return problem(500, str(error))
        sensors = [{"id": f"{gateway}{SENSOR_SEPARATOR}{m}", "measure": m} for m in MEASURES]
        span = iso_minutes(minutes[[0, -1]]) if len(minutes) else [None, None]
        return JSONResponse(
            {"gateway": gateway, "sensors": sensors, "first": span[0], "last": span[1]}
        )

    def page(sensor: str, gateway: str, measure: str, params: Any) -> JSONResponse:
        start = parse_moment(params["start"], "start") if "start" in params else None
        end = parse_moment(params["end"], "end") if "end" in params else None
        try:
            limit = int(params.get("limit", PAGE))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_PAGE:
            return problem(400, f"limit: a whole number from 1 to {MAX_PAGE}")
        columns = store.columns(gateway)
        minutes = columns["minute"]
        first = int(np.searchsorted(minutes, start)) if start is not None else 0
        last = int(np.searchsorted(minutes, end, side="right")) if end is not None else len(minutes)
        stop = min(last, first + limit)
        times = iso_minutes(minutes[first:stop])
        readings = list(zip(times, columns[measure][first:stop].tolist(), strict=True))
        following = None
        if stop < last:
            query = {"start": iso_minutes(minutes[stop : stop + 1])[0], "limit": str(limit)}
            if "end" in params:
                query["end"] = params["end"]
            following = f"/api/sensors/{sensor}/readings?{urlencode(query)}"
        return JSONResponse(
            {"sensor": sensor, "measure": measure, "readings": readings, "next": following}
        )

    async def sensor_readings(request: Request) -> JSONResponse:
        sensor = request.path_params["sensor"]
        gateway, _, measure = sensor.rpartition(SENSOR_SEPARATOR)
        if gateway not in known or measure not in MEASURES:
            return problem(404, f"unknown sensor {sensor}")
        try:
            response: JSONResponse = await run_in_threadpool(
                page, sensor, gateway, measure, request.query_params
            )
            return response
        except MtbfError as error:
            return problem(400, str(error))

    async def post_result(request: Request) -> JSONResponse:
        given = request.headers.get("authorization", "")
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return problem(401, "posting a result needs the service's token (Bearer)")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return problem(415, "a report is sent as content-type: application/json")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESULT_BYTES:
            return problem(413, f"a report is at most {MAX_RESULT_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():  # counted as it comes: never read past the cap
            body += chunk
            if len(body) > MAX_RESULT_BYTES:
                return problem(413, f"a report is at most {MAX_RESULT_BYTES} bytes")
        try:
            report = orjson.loads(body)
        except orjson.JSONDecodeError:
            return problem(400, "the body is not JSON")
        if not isinstance(report, dict) or not all(
            isinstance(v, dict) and {"battery", "solar"} <= set(v) for v in report.values()
        ):
            return problem(422, "expected an MTBF report: {gateway: {battery: ..., solar: ...}}")
        number = next(numbers)
        results[number] = report
        while len(results) > KEPT_RESULTS:
            results.popitem(last=False)
        return JSONResponse({"id": number}, status_code=201)

    async def get_result(request: Request) -> JSONResponse:
        number = int(request.path_params["number"])
        if number not in results:
            return problem(404, f"no result {number} (the last {KEPT_RESULTS} are kept)")
        return JSONResponse(results[number])

    return Starlette(
        routes=[
            Route("/api/gateways", list_gateways),
            Route("/api/gateways/{gateway}/sensors", list_sensors),
            Route("/api/sensors/{sensor}/readings", sensor_readings),
            Route("/api/results", post_result, methods=["POST"]),
            Route("/api/results/{number:int}", get_result),
        ]
    )


def serve(data: Path, host: str, port: int, token: str = "") -> None:
    """Run the service until interrupted. Beyond loopback, writes need a token (``token``,
    else the MTBF_SERVICE_TOKEN variable): anyone who can reach the port could post."""
    import uvicorn

    token = token or os.environ.get(TOKEN_VARIABLE, "")
    if not token and not _loopback(host):
        raise MtbfError(
            f"listening on {host} beyond loopback needs a token for POST /api/results: "
            f"--token TOKEN or {TOKEN_VARIABLE}"
        )
    uvicorn.run(create_app(data, token), host=host, port=port, log_level="warning")


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_gateways(url: str, wanted: list[str] | None) -> list[str]:
    """The gateways asked for (all by default), sorted; unknown ones are an error."""
    import httpx

    base = url.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            known = _get(client, "/api/gateways")["gateways"]
    except httpx.HTTPError as error:
        raise MtbfError(f"{base}: {error}") from None
    unknown = [g for g in wanted or [] if g not in known]
    if unknown:
        raise MtbfError(f"unknown gateway(s) {', '.join(unknown)} at {base}")
    return sorted(set(wanted)) if wanted else sorted(known)


def fetch_gateway(url: str, gateway: str, period: Bounds) -> Columns:
    """One gateway's readings in the period as the original did it: its sensors, then each
    sensor's readings, page by page; the sensors must agree on the minutes."""
    import httpx

    base = url.rstrip("/")
    params = {
        name: iso_minutes(np.array([bound]))[0]
        for name, bound in (("start", period.first), ("end", period.last))
        if bound is not None
    }
    columns: Columns = {}
    first_times: list[str] | None = None
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            for sensor in _get(client, f"/api/gateways/{gateway}/sensors")["sensors"]:
                times: list[str] = []
                values: list[float] = []
                path: str | None = f"/api/sensors/{sensor['id']}/readings"
                query: dict[str, str] | None = params
                while path is not None:
                    body = _get(client, path, query)
                    if body["readings"]:
                        page_times, page_values = zip(*body["readings"], strict=True)
                        times.extend(page_times)
                        values.extend(page_values)
                    path, query = body.get("next"), None
                if first_times is None:  # the minutes are parsed once, for the first sensor
                    columns["minute"] = _minutes(times, f"{base} sensor {sensor['id']}")
                    first_times = times
                elif times != first_times:
                    raise MtbfError(
                        f"{base}: the sensors of gateway {gateway} do not report the same minutes"
                    )
                columns[sensor["measure"]] = np.array(values, dtype=np.float64)
    except httpx.HTTPError as error:
        raise MtbfError(f"{base}: gateway {gateway}: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise MtbfError(
            f"{base}: gateway {gateway}: an answer not in the API's shape: {error}"
        ) from None
    missing = [m for m in MEASURES if m not in columns]
    if missing:
        raise MtbfError(f"{base}: gateway {gateway} has no sensor for {', '.join(missing)}")
    return columns


def _minutes(times: list[str], where: str) -> npt.NDArray[np.int64]:
    """ISO-8601 times as minutes since the epoch: the service's own form (seconds and a Z,
    ``2017-06-01T00:00:00Z``) parsed by numpy, 8x faster than pandas; any other by pandas."""
    text = np.array(times, dtype=str)
    if text.dtype == np.dtype("<U20") and bool(np.all(np.char.endswith(text, "Z"))):
        seconds = text.astype("<U19").astype("datetime64[s]").astype(np.int64)
        nanoseconds = seconds * 1_000_000_000
    else:
        import pandas as pd

        parsed = pd.to_datetime(pd.Series(times, dtype=object), format="ISO8601", utc=True)
        nanoseconds = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    minutes: npt.NDArray[np.int64] = nanoseconds // NANOSECONDS_PER_MINUTE
    if bool(np.any(minutes * NANOSECONDS_PER_MINUTE != nanoseconds)):
        raise MtbfError(f"{where}: a reading's time is not on a whole minute")
    if len(minutes) > 1 and not bool(np.all(np.diff(minutes) > 0)):
        raise MtbfError(f"{where}: readings not in time order, or a minute twice")
    return minutes


def fetch_readings(
    url: str, gateways: list[str] | None, start: str | None, end: str | None
) -> Readings:
    """Every gateway asked for through the REST API, as readings in memory."""
    import pandas as pd

    from .data import Readings

    asked = bounds(start, end)
    frames = []
    for gateway in service_gateways(url, gateways):
        columns = fetch_gateway(url, gateway, asked)
        frames.append(
            pd.DataFrame(
                {
                    GATEWAY: gateway,
                    "minute": columns["minute"],
                    **{m: columns[m] for m in MEASURES},
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if frame.empty:
        raise MtbfError(f"{url.rstrip('/')}: no readings for the period")
    frame[GATEWAY] = frame[GATEWAY].astype("category")
    frame["source"] = np.zeros(len(frame), dtype=np.int16)
    frame["row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return Readings(frame, (url.rstrip("/"),))


def _get(client: Any, path: str, params: dict[str, str] | None = None) -> Any:
    response = client.get(path, params=params)
    if response.status_code != 200:
        message = response.json().get("error", response.text) if response.content else ""
        raise MtbfError(f"{client.base_url}{path}: HTTP {response.status_code} {message}")
    return orjson.loads(response.content)


def post_results(url: str, report: dict[str, Any]) -> int:
    """POST a JSON report back to the service (with the token MTBF_SERVICE_TOKEN names, if
    set); its id there."""
    import httpx

    token = os.environ.get(TOKEN_VARIABLE, "")
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/api/results", json=report, headers=headers, timeout=60
        )
    except httpx.HTTPError as error:
        raise MtbfError(f"{url}: {error}") from None
    if response.status_code != 201:
        raise MtbfError(f"{url}/api/results: HTTP {response.status_code} {response.text}")
    return int(response.json()["id"])
