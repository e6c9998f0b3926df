"""Load, select, sort and analyse: what `analyse` and `chart` share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .analysis import (
    GatewayResult,
    Period,
    analyse,
    bounds,
    check_readings,
    gateway_result,
    parse_moment,
    select,
)
from .data import Readings, load_readings
from .dataset import dataset_gateways, is_dataset, read_gateway
from .errors import MtbfError
from .sources import chosen_gateways


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


def results_for(
    data: Path | None,
    api: str | None,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
    timezone: str = "UTC",
    verbose: bool = False,
    advance: Callable[[int], None] | None = None,
) -> tuple[list[GatewayResult], Period]:
    """The MTBF results per gateway (sorted) and the period, from any source: a partitioned
    data set is analysed a gateway at a time (memory: one gateway's readings), anything
    else is loaded whole. ``advance(n)``: n more gateways done (a progress display)."""
    if api is None and data is not None and is_dataset(data):
        return analyse_dataset(data, start, end, gateways, timezone, verbose, advance)
    readings = load(data, api, start, end, gateways)
    return run_analysis(readings, start, end, gateways, timezone, verbose)


def analyse_dataset(
    data: Path,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
    timezone: str = "UTC",
    verbose: bool = False,
    advance: Callable[[int], None] | None = None,
) -> tuple[list[GatewayResult], Period]:
    """A partitioned data set, one gateway at a time: each read from its own folder, only
    the period's row groups; a gateway without readings in the period is not reported. A
    bound not given reaches the first (last) reading of the gateways analysed."""
    chosen = chosen_gateways(dataset_gateways(data), gateways, str(data))
    asked = bounds(start, end)
    results = []
    for gateway in chosen:
        columns = read_gateway(data, gateway, asked.first, asked.last)
        if len(columns["minute"]):
            results.append(gateway_result(gateway, columns, timezone, verbose))
        if advance is not None:
            advance(1)
    return results, asked.period([r.span for r in results if r.span is not None])


def run_analysis(
    readings: Readings,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
    timezone: str = "UTC",
    verbose: bool = False,
) -> tuple[list[GatewayResult], Period]:
    """The MTBF results per gateway (sorted) and the analysed period."""
    first = parse_moment(start, "--start") if start is not None else None
    last = parse_moment(end, "--end") if end is not None else None
    frame, period = select(readings, first, last, gateways)
    check_readings(frame, readings)
    return analyse(frame, timezone, verbose), period
