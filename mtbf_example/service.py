"""The REST data service, shaped like the original system, and its client.

    GET  /api/gateways                               the gateways with readings
    GET  /api/gateways/{gateway}/sensors             a gateway's sensor ids (one per measure)
    GET  /api/sensors/{sensor}/readings?start=&end=  a sensor's readings, ISO-8601 bounds
    POST /api/results                                an MTBF JSON report, stored; 201 + its id
    GET  /api/results/{id}                           a stored report

Bound to 127.0.0.1 by default. ``fetch_readings`` is the client ``analyse --api`` uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import parse_moment, sort_readings
from .data import Readings, from_frame, load_readings
from .errors import MtbfError
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE, TIME, TIME_FORMAT

MAX_RESULT_BYTES = 1_000_000
SENSOR_SEPARATOR = ":"


def create_app(data: Path) -> Any:
    """A Starlette app serving the readings under ``data`` (loaded and checked once)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    readings = load_readings(data)
    frame = sort_readings(readings.frame, readings)
    gateways = sorted(str(g) for g in frame[GATEWAY].cat.categories)
    slices: dict[str, tuple[int, int]] = {}
    codes = frame[GATEWAY].cat.codes.to_numpy()
    names = frame[GATEWAY].cat.categories
    for code in np.unique(codes).tolist():
        where = np.flatnonzero(codes == code)
        slices[str(names[code])] = (int(where[0]), int(where[-1]) + 1)
    minutes = frame["minute"].to_numpy()
    results: list[Any] = []

    def problem(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def list_gateways(request: Request) -> JSONResponse:
        return JSONResponse({"gateways": gateways})

    async def list_sensors(request: Request) -> JSONResponse:
        gateway = request.path_params["gateway"]
        if gateway not in slices:
            return problem(404, f"unknown gateway {gateway}")
        sensors = [{"id": f"{gateway}{SENSOR_SEPARATOR}{m}", "measure": m} for m in MEASURES]
        return JSONResponse({"gateway": gateway, "sensors": sensors})

    async def sensor_readings(request: Request) -> JSONResponse:
        sensor = request.path_params["sensor"]
        gateway, _, measure = sensor.rpartition(SENSOR_SEPARATOR)
        if gateway not in slices or measure not in MEASURES:
            return problem(404, f"unknown sensor {sensor}")
        lo, hi = slices[gateway]
        try:
            start = (
                parse_moment(request.query_params["start"], "start")
                if ("start" in request.query_params)
                else None
            )
            end = (
                parse_moment(request.query_params["end"], "end")
                if ("end" in request.query_params)
                else None
            )
        except MtbfError as error:
            return problem(400, str(error))
        part = minutes[lo:hi]
        first = lo + (int(np.searchsorted(part, start)) if start is not None else 0)
        last = lo + (int(np.searchsorted(part, end, side="right")) if end is not None else hi - lo)
        times = pd.to_datetime(minutes[first:last] * NANOSECONDS_PER_MINUTE, utc=True)
        values = frame[measure].to_numpy()[first:last]
        return JSONResponse(
            {
                "sensor": sensor,
                "measure": measure,
                "readings": list(
                    zip(times.strftime(TIME_FORMAT).tolist(), values.tolist(), strict=True)
                ),
            }
        )

    async def post_result(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_RESULT_BYTES:
            return problem(413, f"a report is at most {MAX_RESULT_BYTES} bytes")
        try:
            report = json.loads(body)
        except ValueError:
            return problem(400, "the body is not JSON")
        if not isinstance(report, dict) or not all(
            isinstance(v, dict) and {"battery", "solar"} <= set(v) for v in report.values()
        ):
            return problem(422, "expected an MTBF report: {gateway: {battery: ..., solar: ...}}")
        results.append(report)
        return JSONResponse({"id": len(results)}, status_code=201)

    async def get_result(request: Request) -> JSONResponse:
        number = int(request.path_params["number"])
        if not 1 <= number <= len(results):
            return problem(404, f"no result {number}")
        return JSONResponse(results[number - 1])

    return Starlette(
        routes=[
            Route("/api/gateways", list_gateways),
            Route("/api/gateways/{gateway}/sensors", list_sensors),
            Route("/api/sensors/{sensor}/readings", sensor_readings),
            Route("/api/results", post_result, methods=["POST"]),
            Route("/api/results/{number:int}", get_result),
        ]
    )


def serve(data: Path, host: str, port: int) -> None:
    """Run the service until interrupted."""
    import uvicorn

    uvicorn.run(create_app(data), host=host, port=port, log_level="warning")


def fetch_readings(
    url: str, gateways: list[str] | None, start: str | None, end: str | None
) -> Readings:
    """Readings through the REST API: gateways, then each sensor between start and end."""
    import httpx

    base = url.rstrip("/")
    params = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            known = _get(client, "/api/gateways")["gateways"]
            wanted = gateways or known
            unknown = [g for g in wanted if g not in known]
            if unknown:
                raise MtbfError(f"unknown gateway(s) {', '.join(unknown)} at {base}")
            frames = []
            for gateway in wanted:
                columns: dict[str, pd.Series] = {}
                for sensor in _get(client, f"/api/gateways/{gateway}/sensors")["sensors"]:
                    rows = _get(client, f"/api/sensors/{sensor['id']}/readings", params)
                    pairs = rows["readings"]
                    columns[sensor["measure"]] = pd.Series(
                        [v for _, v in pairs], index=[t for t, _ in pairs], dtype=float
                    )
                table = pd.DataFrame(columns).rename_axis(TIME).reset_index()
                table.insert(0, GATEWAY, gateway)
                frames.append(table)
    except httpx.HTTPError as error:
        raise MtbfError(f"{base}: {error}") from None
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if frame.empty:
        raise MtbfError(f"{base}: no readings for the period")
    return from_frame(frame, base)


def _get(client: Any, path: str, params: dict[str, str] | None = None) -> Any:
    response = client.get(path, params=params)
    if response.status_code != 200:
        message = response.json().get("error", response.text) if response.content else ""
        raise MtbfError(f"{client.base_url}{path}: HTTP {response.status_code} {message}")
    return response.json()


def post_results(url: str, report: dict[str, Any]) -> int:
    """POST a JSON report back to the service; its id there."""
    import httpx

    try:
        response = httpx.post(f"{url.rstrip('/')}/api/results", json=report, timeout=60)
    except httpx.HTTPError as error:
        raise MtbfError(f"{url}: {error}") from None
    if response.status_code != 201:
        raise MtbfError(f"{url}/api/results: HTTP {response.status_code} {response.text}")
    return int(response.json()["id"])
