"""Synthetic homes: solar, household load and a battery, with failures injected at known minutes.

No real customer data ships. Per gateway: a roof of 3-6 kWp under pvlib's clear sky for the
site, dimmed by passing clouds; a household load profile (base load, morning and evening
peaks, appliance spikes); a battery that charges from surplus and discharges to cover the
load within its rate and capacity, with a state of charge. By construction that behaviour
never fails the rules, so the only failures are the ones injected (battery discharging while
solar covers the load; a dead noon reading): the truth is known exactly.

Deterministic for a seed; one gateway is generated and written at a time, so 1,000 homes x 30
days never sit in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from .dataset import DatasetWriter
from .schema import COLUMNS, NANOSECONDS_PER_MINUTE, TIME_FORMAT

MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Site:
    """Where the homes are (default: Madrid)."""

    latitude: float = 40.42
    longitude: float = -3.70
    altitude: float = 650.0


@dataclass(frozen=True)
class HomeTruth:
    """The failures injected into one home: minutes since the epoch, sorted."""

    battery: tuple[int, ...]
    solar: tuple[int, ...]


def clear_sky_per_kwp(start: pd.Timestamp, days: int, site: Site) -> npt.NDArray[np.float64]:
    """kW per installed kWp for every minute: pvlib's Ineichen clear sky (GHI), derated."""
    from pvlib.location import Location  # a 2-3 s import: only when generating

    times = pd.date_range(start, periods=days * MINUTES_PER_DAY, freq="1min", tz="UTC")
    location = Location(site.latitude, site.longitude, altitude=site.altitude, tz="UTC")
    ghi = np.asarray(location.get_clearsky(times, model="ineichen")["ghi"], dtype=np.float64)
    per_kwp: npt.NDArray[np.float64] = np.clip(ghi, 0.0, None) / 1000.0 * 0.85
    return per_kwp


def _clouds(rng: np.random.Generator, minutes: int) -> npt.NDArray[np.float64]:
    """A cloud factor per minute in [0.15, 1]: clear spells and passing clouds."""
    factor = np.ones(minutes)
    start = 0
    while start < minutes:
        start += int(rng.exponential(180))
        length = int(rng.integers(3, 45))
        depth = rng.uniform(0.2, 0.85)
        shape = np.sin(np.linspace(0, np.pi, max(length, 2)))[
            : max(0, min(length, minutes - start))
        ]
        factor[start : start + len(shape)] *= 1 - depth * shape
        start += length
    return np.clip(factor, 0.15, 1.0)


def _load(rng: np.random.Generator, days: int) -> npt.NDArray[np.float64]:
    """Household consumption in kW per minute: base, daily peaks, appliance spikes."""
    minute_of_day = np.tile(np.arange(MINUTES_PER_DAY), days)
    hour = minute_of_day / 60.0
    base = rng.uniform(0.15, 0.4)
    morning = rng.uniform(0.4, 1.2) * np.exp(-((hour - 7.5) ** 2) / 1.5)
    evening = rng.uniform(0.8, 2.0) * np.exp(-((hour - 20.0) ** 2) / 3.0)
    noise = rng.gamma(2.0, 0.05, size=days * MINUTES_PER_DAY)
    load = base + morning + evening + noise
    for _ in range(days * 6):  # kettles, ovens, washing machines
        at = int(rng.integers(0, days * MINUTES_PER_DAY))
        load[at : at + int(rng.integers(2, 40))] += rng.uniform(0.8, 2.5)
    return load


def _battery(
    surplus: npt.NDArray[np.float64], capacity_kwh: float, rate_kw: float, soc_start: float
) -> tuple[list[float], list[float]]:
    """Battery power (kW, + charging) and state of charge (%) that follow the charge rules."""
    pbatt: list[float] = []
    soc: list[float] = []
    level = soc_start
    per_minute = 100.0 / (capacity_kwh * 60.0)  # % per kW over one minute
    for value in surplus.tolist():
        if value > 0:
            power = min(value, rate_kw, (100.0 - level) / per_minute)
        else:
            power = -min(-value, rate_kw, (level - 5.0) / per_minute if level > 5.0 else 0.0)
        level = min(100.0, max(0.0, level + power * per_minute))
        pbatt.append(power)
        soc.append(level)
    return pbatt, soc


def generate_home(
    index: int, seed: int, start: pd.Timestamp, days: int, clear_sky: npt.NDArray[np.float64]
) -> tuple[pd.DataFrame, HomeTruth]:
    """One gateway's readings (time-ordered) and the failures injected into them."""
    rng = np.random.default_rng([seed, index])
    minutes = days * MINUTES_PER_DAY
    # UTX + 6 hex digits, like the real dataloggers; an odd multiplier keeps ids distinct.
    gateway = f"UTX{(index * 0x9E3779B1 + seed * 0x51ED27) & 0xFFFFFF:06x}"
    pdc = np.round(clear_sky * rng.uniform(3.0, 6.0) * _clouds(rng, minutes), 3)
    pcons = np.round(_load(rng, days), 3)
    pbatt_list, soc_list = _battery(
        pdc - pcons, rng.uniform(5.0, 13.5), rng.uniform(2.5, 5.0), rng.uniform(20.0, 90.0)
    )
    pbatt = np.round(np.array(pbatt_list), 3)
    soc = np.round(np.array(soc_list), 2)
    first_minute = int(start.value // NANOSECONDS_PER_MINUTE)
    noon = 12 * 60
    solar_days = rng.choice(days, size=int(rng.integers(0, max(1, days // 4) + 1)), replace=False)
    for day in solar_days.tolist():  # a dead inverter around noon
        lo = day * MINUTES_PER_DAY + noon - int(rng.integers(0, 20))
        pdc[lo : day * MINUTES_PER_DAY + noon + int(rng.integers(1, 20))] = 0.0
    eligible = np.flatnonzero((pdc > pcons) & (soc < 100))
    count = min(len(eligible), int(rng.integers(0, 4 * days + 1)))
    battery_at = np.sort(rng.choice(eligible, size=count, replace=False)) if count else eligible[:0]
    pbatt[battery_at] = -np.round(rng.uniform(0.05, 1.5, size=len(battery_at)), 3)
    timestamps = pd.to_datetime(
        (first_minute + np.arange(minutes)) * NANOSECONDS_PER_MINUTE, utc=True
    )
    frame = pd.DataFrame(
        {
            "gateway": gateway,
            "time": timestamps,
            "pcons": pcons,
            "pbatt": pbatt,
            "pdc": pdc,
            "soc": soc,
        },
        columns=list(COLUMNS),
    )
    truth = HomeTruth(
        battery=tuple(int(first_minute + m) for m in battery_at.tolist()),
        solar=tuple(
            sorted(int(first_minute + d * MINUTES_PER_DAY + noon) for d in solar_days.tolist())
        ),
    )
    return frame, truth


FORMATS = ("dataset", "parquet", "csv", "csv-folder")


def format_for(out: Path, chosen: str | None = None) -> str:
    """The format to write: ``chosen``, else from the suffix (.csv, .parquet; a folder: the
    gateway-partitioned data set)."""
    if chosen is not None:
        if chosen not in FORMATS:
            raise ValueError(f"unknown format {chosen!r}: choose one of {', '.join(FORMATS)}")
        return chosen
    suffix = out.suffix.lower()
    if suffix not in ("", ".csv", ".parquet"):
        raise ValueError(f"{out}: use a .csv or .parquet file, or a folder")
    return {".csv": "csv", ".parquet": "parquet"}.get(suffix, "dataset")


class _Writer:
    """Appends one gateway at a time to a CSV file, a Parquet file, or a folder of CSVs."""

    def __init__(self, out: Path, kind: str) -> None:
        self.out = out
        self.kind = {"csv": ".csv", "parquet": ".parquet", "csv-folder": "folder"}[kind]
        self.parquet: object = None
        if self.kind == "folder":
            out.mkdir(parents=True, exist_ok=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            if self.kind == ".csv":
                out.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind != ".parquet":  # CSV: ISO-8601 with Z, as the data spec says
            frame = frame.assign(time=frame["time"].dt.strftime(TIME_FORMAT))
        if self.kind == "folder":
            frame.to_csv(self.out / f"{frame['gateway'].iat[0]}.csv", index=False)
        elif self.kind == ".csv":
            frame.to_csv(self.out, mode="a", header=False, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            typed = frame.assign(gateway=frame["gateway"].astype("category"))
            table = pa.Table.from_pandas(typed, preserve_index=False)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.out, table.schema)
            self.parquet.write_table(table)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()  # type: ignore[attr-defined]


def generate(
    out: Path,
    homes: int,
    days: int,
    seed: int,
    start: str = "2017-06-01",
    site: Site | None = None,
    kind: str | None = None,
    processes: int = 1,
) -> Iterator[tuple[str, HomeTruth]]:
    """Write ``homes`` gateways x ``days`` days to ``out``; yields each home's truth as it goes.

    ``kind`` (see ``format_for``): by default ``out``'s suffix picks .csv or .parquet, and a
    name without one is a gateway-partitioned data set (``dataset.py``). A data set is
    written by ``processes`` processes at once, each home into its own folder (a home's
    readings depend only on the seed and its number: the same data however many).
    """
    kind = format_for(out, kind)
    first = pd.Timestamp(start, tz="UTC").normalize()
    clear = clear_sky_per_kwp(first, days, site or Site())
    if kind == "dataset":
        yield from _generate_dataset(DatasetWriter(out), homes, days, seed, first, clear, processes)
        return
    writer = _Writer(out, kind)
    try:
        for index in range(homes):
            frame, truth = generate_home(index, seed, first, days, clear)
            writer.write(frame)
            yield str(frame["gateway"].iat[0]), truth
    finally:
        writer.close()


# What the forked writers of a data set share: set before they are forked.
_HOME_JOB: tuple[DatasetWriter, int, int, pd.Timestamp, npt.NDArray[np.float64]] | None = None


def _write_home(index: int) -> tuple[str, HomeTruth]:
    assert _HOME_JOB is not None
    writer, seed, days, first, clear = _HOME_JOB
    frame, truth = generate_home(index, seed, first, days, clear)
    writer.write(frame)
    return str(frame["gateway"].iat[0]), truth


def _generate_dataset(
    writer: DatasetWriter,
    homes: int,
    days: int,
    seed: int,
    first: pd.Timestamp,
    clear: npt.NDArray[np.float64],
    processes: int,
) -> Iterator[tuple[str, HomeTruth]]:
    global _HOME_JOB
    _HOME_JOB = (writer, seed, days, first, clear)
    try:
        if processes <= 1 or homes <= 1:
            yield from map(_write_home, range(homes))
            return
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            yield from pool.imap(_write_home, range(homes))
    finally:
        _HOME_JOB = None


def truth_json(truths: dict[str, HomeTruth]) -> str:
    """The injected failures, as minutes since the epoch, for tests and demos."""
    return (
        json.dumps(
            {
                g: {"battery": list(t.battery), "solar": list(t.solar)}
                for g, t in sorted(truths.items())
            },
            indent=1,
        )
        + "\n"
    )
