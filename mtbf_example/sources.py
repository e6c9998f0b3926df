"""Where one gateway's readings come from, fetched by whoever analyses that gateway.

In the original system each gateway's analysis made its own API calls (its sensors, then
each sensor's readings for the period): retrieval was parallel, per gateway, and a gateway
could analyse its own household's data where it was (the edge). The flagship keeps that
shape: the main program lists the gateways and the period, and hands each worker a small
``GatewaySource`` that the worker fetches itself:

- ``DatasetGateway``: a partition of a gateway-partitioned Parquet data set (only its
  folder, only the period's row groups);
- ``ApiGateway``: the REST data service, gateway -> sensors -> each sensor's readings for the
  period, page by page;
- ``LoadedGateway``: readings already in memory (a single CSV or Parquet file, or a folder of
  them, is read whole by the main program: it is not split by gateway at rest).

Each is a small frozen value: it pickles to a worker, a Spark task or a container.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy.typing as npt

from .analysis import (
    Bounds,
    Period,
    bounds,
    gateway_columns,
    parse_moment,
    select,
    sort_readings,
)
from .errors import MtbfError

Columns = dict[str, npt.NDArray[Any]]


class GatewaySource(Protocol):
    @property
    def gateway(self) -> str:
        """The gateway's id."""
        ...

    def fetch(self, period: Bounds) -> Columns:
        """The gateway's readings in the period (inclusive; an unset bound: to the first or
        last reading), in time order: ``minute`` and the measures as arrays."""
        ...


@dataclass(frozen=True)
class DatasetGateway:
    """One gateway's folder of a partitioned data set."""

    path: str
    gateway: str

    def fetch(self, period: Bounds) -> Columns:
        from .dataset import read_gateway

        return read_gateway(Path(self.path), self.gateway, period.first, period.last)


@dataclass(frozen=True)
class ApiGateway:
    """One gateway through the REST data service."""

    url: str
    gateway: str

    def fetch(self, period: Bounds) -> Columns:
        from .service import fetch_gateway

        return fetch_gateway(self.url, self.gateway, period)


@dataclass(frozen=True)
class LoadedGateway:
    """One gateway's readings, read by the main program with the rest of a file."""

    gateway: str
    columns: Columns

    def fetch(self, period: Bounds) -> Columns:
        return self.columns


def gateway_sources(
    data: Path | None,
    api: str | None,
    start: str | None,
    end: str | None,
    gateways: list[str] | None,
) -> tuple[list[GatewaySource], Bounds]:
    """The sources of the gateways asked for (all by default), sorted, and the bounds of the
    period asked for. No reading is read here: where a bound is not given, the period reaches
    the readings each gateway finds (``Bounds.period`` over the results)."""
    if api is not None:
        from .service import service_gateways

        chosen = service_gateways(api, gateways)
        return [ApiGateway(api, g) for g in chosen], bounds(start, end)
    if data is None:
        raise MtbfError("give a DATA file or folder, or --api URL")
    from .dataset import dataset_gateways, is_dataset

    if is_dataset(data):
        chosen = chosen_gateways(dataset_gateways(data), gateways, str(data))
        return [DatasetGateway(os.path.abspath(data), g) for g in chosen], bounds(start, end)
    sources, period = _loaded(data, start, end, gateways)
    return sources, Bounds(period.start, period.end)


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


def _loaded(
    data: Path, start: str | None, end: str | None, gateways: list[str] | None
) -> tuple[list[GatewaySource], Period]:
    from .data import load_readings

    readings = load_readings(data)
    first = parse_moment(start, "--start") if start is not None else None
    last = parse_moment(end, "--end") if end is not None else None
    frame, period = select(readings, first, last, gateways)
    frame = sort_readings(frame, readings)
    sources: list[GatewaySource] = [
        LoadedGateway(gateway, columns) for gateway, columns in gateway_columns(frame).items()
    ]
    return sources, period
