"""The analysis: failures per gateway and kind, and their MTBF, vectorised over all readings.

One sort by (gateway, minute) when the rows are not already in that order, boolean masks for
the two rules over every row at once, then per gateway only a slice: no Python call per minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .errors import MtbfError
from .formula import Mtbf, mtbf
from .rules import battery_failing, solar_failing
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE

if TYPE_CHECKING:  # pandas is imported where frames are used: the flagship's path has none
    import pandas as pd

    from .data import Readings


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
    # the first and last minute of the readings analysed (what the period is made of)
    span: tuple[int, int] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Period:
    """The analysed period, inclusive, in minutes since the epoch."""

    start: int
    end: int

    def label(self, minute: int) -> str:
        return minute_label(minute)


@dataclass(frozen=True)
class Bounds:
    """The period asked for: ``--start`` and ``--end`` as minutes, None where not given.

    Where a bound is not given, the period reaches the first (or last) reading of the
    gateways analysed: known once each has read its own readings, so the main program need
    not read any (``period``)."""

    first: int | None = None
    last: int | None = None

    def period(self, spans: Sequence[tuple[int, int]]) -> Period:
        """The period of a report whose gateways' readings span ``spans``."""
        if (self.first is None or self.last is None) and not spans:
            raise MtbfError("no readings to analyse")
        first = min(s[0] for s in spans) if self.first is None else self.first
        last = max(s[1] for s in spans) if self.last is None else self.last
        return Period(first, last)


def bounds(start: str | None, end: str | None) -> Bounds:
    """The options' bounds, checked: an empty period is an error."""
    first = parse_moment(start, "--start") if start is not None else None
    last = parse_moment(end, "--end") if end is not None else None
    if first is not None and last is not None and last < first:
        raise MtbfError("the period is empty: --end is before --start")
    return Bounds(first, last)


def minute_label(minute: int) -> str:
    """A minute since the epoch as the report prints it (UTC): 2017-06-04 09:29:00."""
    text = np.datetime_as_string(np.datetime64(minute, "m"), unit="s")
    return str(text).replace("T", " ")


def parse_moment(text: str, option: str) -> int:
    """An ISO-8601 time from the command line, as a minute since the epoch."""
    import pandas as pd

    expected = "expected ISO-8601, e.g. 2017-06-04T00:00:00Z"
    if not text.strip():
        raise MtbfError(f"{option}: an empty time ({expected}; leave the option out for no bound)")
    try:
        moment = pd.Timestamp(text)
    except (ValueError, OverflowError):
        raise MtbfError(f"{option}: unparsable time {text!r} ({expected})") from None
    if pd.isna(moment):  # 'nan', 'NaT': not a time, and not "no bound" either
        raise MtbfError(f"{option}: {text!r} is not a time ({expected})")
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    try:  # pandas parses years 1-9999; minutes count in nanoseconds from 1677 to 2262
        nanoseconds = moment.as_unit("ns").value
    except (ValueError, OverflowError):
        raise MtbfError(
            f"{option}: {text!r} is outside the times this tool counts "
            f"({pd.Timestamp.min:%Y-%m-%d} to {pd.Timestamp.max:%Y-%m-%d})"
        ) from None
    return int(nanoseconds // NANOSECONDS_PER_MINUTE)


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


def check_readings(frame: pd.DataFrame, readings: Readings) -> None:
    """A gateway with two readings for one minute is bad data: say where both come from.

    Data grouped by gateway in time order (as files usually are) is checked by comparing
    neighbours; other data by counting (gateway, minute) pairs, without sorting it.
    """
    codes = frame[GATEWAY].cat.codes.to_numpy()
    minutes = frame["minute"].to_numpy()
    if _grouped_in_time_order(codes, minutes):
        same = np.flatnonzero((codes[1:] == codes[:-1]) & (minutes[1:] == minutes[:-1]))
        if len(same):
            _duplicate(frame, readings, int(same[0]), int(same[0]) + 1)
        return
    span = int(minutes.max() - minutes.min()) + 1
    key = codes.astype(np.int64) * span + (minutes - minutes.min())
    if (int(codes.max()) + 1) * span <= 4 * len(key) + 1_000_000:
        counts = np.bincount(key)  # a dense (gateway, minute) grid: one pass, no hashing
        clash = np.flatnonzero(counts > 1)
        if not len(clash):
            return
        both = np.flatnonzero(key == clash[0])
    else:
        import pandas as pd

        repeated = pd.Series(key).duplicated(keep=False).to_numpy()
        if not repeated.any():
            return
        first = int(np.flatnonzero(repeated)[0])
        both = np.flatnonzero(key == key[first])
    _duplicate(frame, readings, int(both[0]), int(both[1]))


def _duplicate(frame: pd.DataFrame, readings: Readings, first: int, second: int) -> None:
    gateway = frame[GATEWAY].iat[first]
    when = minute_label(int(frame["minute"].iat[first]))
    raise MtbfError(
        f"gateway {gateway} has two readings for {when}: "
        f"{_where(frame, readings, first)} and {_where(frame, readings, second)}"
    )


def sort_readings(frame: pd.DataFrame, readings: Readings) -> pd.DataFrame:
    """Rows grouped by gateway, each group in time order (checked for duplicates first); data
    already in that order is not copied."""
    check_readings(frame, readings)
    codes = frame[GATEWAY].cat.codes.to_numpy()
    minutes = frame["minute"].to_numpy()
    if _grouped_in_time_order(codes, minutes):
        return frame
    return frame.iloc[np.lexsort((minutes, codes))]


def gateway_columns(frame: pd.DataFrame) -> dict[str, dict[str, npt.NDArray[Any]]]:
    """Each gateway's readings of a frame grouped by gateway in time order (``sort_readings``)
    as arrays: ``minute`` and the measures, what one gateway's analysis takes."""
    return {
        str(gateway): {name: part[name].to_numpy() for name in ("minute", *MEASURES)}
        for gateway, part in frame.groupby(GATEWAY, observed=True)
    }


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


def _by_gateway(
    frame: pd.DataFrame, mask: npt.NDArray[np.bool_], verbose: bool
) -> dict[int, tuple[Mtbf, tuple[Failure, ...]]]:
    """MTBF per gateway code of the failing rows in ``mask``; only those rows are sorted."""
    codes = frame[GATEWAY].cat.codes.to_numpy()
    minutes = frame["minute"].to_numpy()
    positions = np.flatnonzero(mask)
    positions = positions[np.lexsort((minutes[positions], codes[positions]))]
    failing_codes = codes[positions]
    bounds = np.flatnonzero(np.diff(failing_codes)) + 1
    results = {}
    for group in np.split(positions, bounds) if len(positions) else []:
        details: tuple[Failure, ...] = ()
        if verbose:
            values = {m: frame[m].to_numpy()[group] for m in MEASURES}
            details = tuple(
                Failure(int(minutes[p]), *(float(values[m][i]) for m in MEASURES))
                for i, p in enumerate(group.tolist())
            )
        results[int(codes[group[0]])] = (mtbf(minutes[group]), details)
    return results


def gateway_result(
    gateway: str,
    columns: dict[str, npt.NDArray[Any]],
    timezone: str = "UTC",
    verbose: bool = False,
) -> GatewayResult:
    """One gateway's MTBF for both kinds, from its readings in time order (``minute`` and
    the measures as arrays): what a worker, or the gateway itself, computes alone."""
    minutes = columns["minute"].astype(np.int64, copy=False)
    pdc = columns["pdc"]
    masks = (
        battery_failing(pdc, columns["pcons"], columns["soc"], columns["pbatt"]),
        solar_failing(minutes, pdc, timezone),
    )
    kinds = []
    for mask in masks:
        details: tuple[Failure, ...] = ()
        if verbose:
            failing = [minutes[mask], *(columns[m][mask] for m in MEASURES)]
            details = tuple(
                Failure(int(minute), *(float(v) for v in values))
                for minute, *values in zip(*failing, strict=True)
            )
        kinds.append((mtbf(minutes[mask]), details))
    (battery, battery_details), (solar, solar_details) = kinds
    span = (int(minutes[0]), int(minutes[-1]))
    return GatewayResult(gateway, battery, solar, battery_details, solar_details, span)


def analyse(
    frame: pd.DataFrame, timezone: str = "UTC", verbose: bool = False
) -> list[GatewayResult]:
    """MTBF per gateway and kind, gateways sorted by id; rows in any order.

    The rules are masks over every row at once; only the failing rows are then sorted, by
    gateway and minute, so no full sort of the data is needed.
    """
    pdc = frame["pdc"].to_numpy()
    battery = battery_failing(
        pdc, frame["pcons"].to_numpy(), frame["soc"].to_numpy(), frame["pbatt"].to_numpy()
    )
    solar = solar_failing(frame["minute"].to_numpy(), pdc, timezone)
    codes = frame[GATEWAY].cat.codes.to_numpy()
    names = frame[GATEWAY].cat.categories
    present = np.flatnonzero(np.bincount(codes, minlength=len(names)) if len(codes) else [])
    battery_results = _by_gateway(frame, battery, verbose)
    solar_results = _by_gateway(frame, solar, verbose)
    none = (mtbf(np.array([], dtype=np.int64)), ())
    results = []
    for code in present:
        battery_mtbf, battery_details = battery_results.get(int(code), none)
        solar_mtbf, solar_details = solar_results.get(int(code), none)
        results.append(
            GatewayResult(
                str(names[code]), battery_mtbf, solar_mtbf, battery_details, solar_details
            )
        )
    return sorted(results, key=lambda r: r.gateway)
