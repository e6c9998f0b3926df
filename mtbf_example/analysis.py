"""The analysis: failures per gateway and kind, and their MTBF, vectorised over all readings.

One sort by (gateway, minute) when the rows are not already in that order, boolean masks for
the two rules over every row at once, then per gateway only a slice: no Python call per minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from .data import Readings
from .errors import MtbfError
from .formula import Mtbf, mtbf
from .rules import battery_failing, solar_failing
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE, REPORT_TIME_FORMAT


@dataclass(frozen=True)
class Failure:
    """One failing minute with its readings (for the verbose report)."""

    minute: int
    pcons: float
    pbatt: float
    pdc: float
    soc: float


@dataclass(frozen=True)
class GatewayResult:
    gateway: str
    battery: Mtbf
    solar: Mtbf
    battery_failures: tuple[Failure, ...] = field(default=(), compare=False)
    solar_failures: tuple[Failure, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Period:
    """The analysed period, inclusive, in minutes since the epoch."""

    start: int
    end: int

    def label(self, minute: int) -> str:
        moment = pd.Timestamp(minute * NANOSECONDS_PER_MINUTE, tz="UTC")
        return str(moment.strftime(REPORT_TIME_FORMAT))


def parse_moment(text: str, option: str) -> int:
    """An ISO-8601 time from the command line, as a minute since the epoch."""
    try:
        moment = pd.Timestamp(text)
    except ValueError:
        raise MtbfError(
            f"{option}: unparsable time {text!r} (expected ISO-8601, e.g. 2017-06-04T00:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return int(moment.value // NANOSECONDS_PER_MINUTE)


def select(
    readings: Readings, start: int | None, end: int | None, gateways: Sequence[str] | None
) -> tuple[pd.DataFrame, Period]:
    """The readings in the period for the chosen gateways; unknown gateways are an error."""
    frame = readings.frame
    if gateways:
        known = set(frame[GATEWAY].cat.categories)
        unknown = [g for g in gateways if g not in known]
        if unknown:
            listed = ", ".join(sorted(known)[:10]) + (" ..." if len(known) > 10 else "")
            raise MtbfError(
                f"unknown gateway(s) {', '.join(unknown)}: no readings in "
                f"{', '.join(readings.sources)} (known: {listed})"
            )
        frame = frame[frame[GATEWAY].isin(gateways)]
    minutes = frame["minute"].to_numpy()
    if len(minutes) == 0:
        raise MtbfError("no readings to analyse")
    first = int(minutes.min()) if start is None else start
    last = int(minutes.max()) if end is None else end
    if last < first:
        raise MtbfError("the period is empty: --end is before --start")
    if start is not None or end is not None:
        frame = frame[(minutes >= first) & (minutes <= last)]
    return frame, Period(first, last)


def sort_readings(frame: pd.DataFrame, readings: Readings) -> pd.DataFrame:
    """Rows grouped by gateway, each group in time order; a gateway with two readings for one
    minute is bad data. Data already grouped that way (as files usually are) is not copied."""
    codes = frame[GATEWAY].cat.codes.to_numpy()
    minutes = frame["minute"].to_numpy()
    if not _grouped_in_time_order(codes, minutes):
        key = (codes.astype(np.int64) << 40) + (minutes - minutes.min())
        order = np.argsort(key, kind="stable")
        frame = frame.iloc[order]
        codes, minutes = codes[order], minutes[order]
    same = (codes[1:] == codes[:-1]) & (minutes[1:] == minutes[:-1])
    if same.any():
        first = int(np.flatnonzero(same)[0])
        gateway = frame[GATEWAY].iat[first]
        when = Period(0, 0).label(int(minutes[first]))
        raise MtbfError(
            f"gateway {gateway} has two readings for {when}: "
            f"{_where(frame, readings, first)} and "
            f"{_where(frame, readings, first + 1)}"
        )
    return frame


def _grouped_in_time_order(codes: npt.NDArray[np.int8], minutes: npt.NDArray[np.int64]) -> bool:
    """Each gateway's rows contiguous and never going back in time."""
    if len(codes) < 2:
        return True
    changes = codes[1:] != codes[:-1]
    if not bool(np.all(changes | (minutes[1:] >= minutes[:-1]))):
        return False
    return int(changes.sum()) + 1 == len(np.unique(codes))


def _where(frame: pd.DataFrame, readings: Readings, position: int) -> str:
    source = readings.sources[int(frame["source"].iat[position])]
    return f"{source}:{int(frame['row'].iat[position])}"


def _failures(
    frame: pd.DataFrame, mask: npt.NDArray[np.bool_], lo: int, hi: int, verbose: bool
) -> tuple[Mtbf, tuple[Failure, ...]]:
    positions = lo + np.flatnonzero(mask[lo:hi])
    minutes = frame["minute"].to_numpy()[positions]
    details: tuple[Failure, ...] = ()
    if verbose:
        values = {m: frame[m].to_numpy()[positions] for m in MEASURES}
        details = tuple(
            Failure(int(minutes[i]), *(float(values[m][i]) for m in MEASURES))
            for i in range(len(positions))
        )
    return mtbf(minutes), details


def analyse(
    frame: pd.DataFrame, timezone: str = "UTC", verbose: bool = False
) -> list[GatewayResult]:
    """MTBF per gateway and kind, gateways sorted; ``frame`` sorted by (gateway, minute)."""
    pdc = frame["pdc"].to_numpy()
    battery = battery_failing(
        pdc, frame["pcons"].to_numpy(), frame["soc"].to_numpy(), frame["pbatt"].to_numpy()
    )
    solar = solar_failing(frame["minute"].to_numpy(), pdc, timezone)
    codes = frame[GATEWAY].cat.codes.to_numpy()
    names = frame[GATEWAY].cat.categories
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], bounds)) if len(codes) else np.array([], int)
    ends = np.concatenate((bounds, [len(codes)])) if len(codes) else np.array([], int)
    results = []
    for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
        battery_mtbf, battery_details = _failures(frame, battery, lo, hi, verbose)
        solar_mtbf, solar_details = _failures(frame, solar, lo, hi, verbose)
        results.append(
            GatewayResult(
                str(names[codes[lo]]), battery_mtbf, solar_mtbf, battery_details, solar_details
            )
        )
    return sorted(results, key=lambda r: r.gateway)
