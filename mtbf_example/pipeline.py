"""Load, select, sort and analyse: what `analyse` and `chart` share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .analysis import (
    GatewayResult,
    Period,
    analyse,
    check_readings,
    gateway_result,
    parse_moment,
    select,
)
from .data import Readings, load_readings
from .dataset import dataset_gateways, dataset_span, is_dataset, read_gateway
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


def chosen_gateways(known: Sequence[str], wanted: list[str] | None, where: str) -> list[str]:
    """The gateways asked for (all by default), sorted; unknown ones are an error."""
    if not wanted:
        return sorted(known)
    present = set(known)
    unknown = [g for g in wanted if g not in present]
    if unknown:
        listed = ", ".join(sorted(known)[:10]) + (" ..." if len(known) > 10 else "")
        raise MtbfError(
            f"unknown gateway(s) {', '.join(unknown)}: no readings in {where} (known: {listed})"
        )
    return sorted(set(wanted))


def dataset_period(data: Path, gateways: list[str], start: str | None, end: str | None) -> Period:
    """The period analysed: the options' bounds, else the chosen gateways' first or last
    minute (from the files' statistics)."""
    first = parse_moment(start, "--start") if start else None
    last = parse_moment(end, "--end") if end else None
    if first is None or last is None:
        span = dataset_span(data, gateways)
        first = span.first if first is None else first
        last = span.last if last is None else last
    if last < first:
        raise MtbfError("the period is empty: --end is before --start")
    return Period(first, last)


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
    the period's row groups; a gateway without readings in the period is not reported."""
    chosen = chosen_gateways(dataset_gateways(data), gateways, str(data))
    period = dataset_period(data, chosen, start, end)
    results = []
    for gateway in chosen:
        columns = read_gateway(data, gateway, period.start, period.end)
        if len(columns["minute"]):
            results.append(gateway_result(gateway, columns, timezone, verbose))
        if advance is not None:
            advance(1)
    return results, period


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
