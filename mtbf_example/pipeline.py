"""Load, select, sort and analyse: what `analyse` and `chart` share."""

from __future__ import annotations

from pathlib import Path

from .analysis import GatewayResult, Period, analyse, check_readings, parse_moment, select
from .data import Readings, load_readings
from .errors import MtbfError


def load(
    data: Path | None,
    api: str | None,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
) -> Readings:
    """Readings from files or, with ``api``, through the REST data service."""
    if api is not None:
        from .service import fetch_readings

        return fetch_readings(api, gateways, start, end)
    if data is None:
        raise MtbfError("give a DATA file or folder, or --api URL")
    return load_readings(data)


def run_analysis(
    readings: Readings,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
    timezone: str = "UTC",
    verbose: bool = False,
) -> tuple[list[GatewayResult], Period]:
    """The MTBF results per gateway (sorted) and the analysed period."""
    first = parse_moment(start, "--start") if start else None
    last = parse_moment(end, "--end") if end else None
    frame, period = select(readings, first, last, gateways)
    check_readings(frame, readings)
    return analyse(frame, timezone, verbose), period
