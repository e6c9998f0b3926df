"""A gateway-partitioned Parquet data set: one folder per gateway, Hive-style.

    homes/gateway=UTX0a1b2c/part-0.parquet      time, pcons, pbatt, pdc, soc (time order)

Why this layout: at an energy company's scale (1,000 homes x a year: 525.6 million minute
readings) nothing may hold every reading at once. The gateways are listed from the folder
names without reading data; one gateway's readings are read from its own folder only, and a
period only from the row groups whose time statistics meet it (pyarrow's filter pushdown).
A gateway's analysis is then independent of the others': it is what a worker, a container or
a gateway itself (the edge) can do alone. Other tools read the layout as it is
(``pyarrow.dataset.dataset(path, partitioning="hive")``, Spark, DuckDB).

Bad data is a ``DataError`` naming the file and the 1-based row, as for single files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import DataError, MtbfError
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE, TIME

PARTITION = f"{GATEWAY}="
PART_FILE = "part-0.parquet"
ROW_GROUP_ROWS = 7 * 1440  # a week: a period filter skips whole weeks it does not meet
FIELDS = ("minute", *MEASURES)

Columns = dict[str, npt.NDArray[Any]]
_NANOSECONDS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def is_dataset(path: Path) -> bool:
    """A folder with at least one ``gateway=...`` folder in it."""
    return path.is_dir() and any(
        child.name.startswith(PARTITION) and child.is_dir() for child in path.iterdir()
    )


def dataset_gateways(path: Path) -> list[str]:
    """The gateways of a data set, sorted: its partition folders' names, no data read."""
    names = sorted(
        child.name[len(PARTITION) :]
        for child in path.iterdir()
        if child.name.startswith(PARTITION) and child.is_dir()
    )
    if not names:
        raise MtbfError(f"{path}: no {PARTITION}... folders: not a partitioned data set")
    return names


def partition_files(path: Path, gateway: str) -> list[Path]:
    folder = path / f"{PARTITION}{gateway}"
    if not folder.is_dir():
        raise MtbfError(f"unknown gateway {gateway}: no folder {folder}")
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise MtbfError(f"{folder}: no .parquet files")
    return files


class DatasetWriter:
    """Writes one gateway at a time into a new (or empty) folder: memory stays one gateway."""

    def __init__(self, out: Path) -> None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise MtbfError(f"{out}: exists and is not an empty folder (choose a new one)")
        out.mkdir(parents=True, exist_ok=True)
        self.out = out

    def write(self, frame: pd.DataFrame) -> None:
        """One gateway's readings (the data columns, ``time`` as UTC timestamps)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        gateway = str(frame[GATEWAY].iat[0])
        folder = self.out / f"{PARTITION}{gateway}"
        folder.mkdir()
        table = pa.table(
            {
                TIME: pa.array(
                    frame[TIME].to_numpy(dtype="datetime64[s]"), pa.timestamp("s", "UTC")
                ),
                **{m: pa.array(frame[m].to_numpy(dtype=np.float64)) for m in MEASURES},
            }
        )
        pq.write_table(table, folder / PART_FILE, row_group_size=ROW_GROUP_ROWS, compression="zstd")

    def close(self) -> None:
        """Nothing is kept open between gateways."""


@dataclass(frozen=True)
class Span:
    """The first and last minute of some readings (minutes since the epoch)."""

    first: int
    last: int


def dataset_span(path: Path, gateways: list[str]) -> Span:
    """The first and last minute of the chosen gateways, from the files' statistics (no data
    read); a file without them has its time column read."""
    import pyarrow.parquet as pq

    lows: list[int] = []
    highs: list[int] = []
    for gateway in gateways:
        for file in partition_files(path, gateway):
            try:
                metadata = pq.ParquetFile(file).metadata
                column = metadata.schema.to_arrow_schema().get_field_index(TIME)
                stats = [
                    metadata.row_group(g).column(column).statistics
                    for g in range(metadata.num_row_groups)
                ]
            except Exception as error:  # pyarrow raises many types for a damaged file
                raise DataError(str(file), f"cannot read Parquet file: {error}") from None
            if column < 0:
                raise DataError(str(file), f"missing column {TIME}")
            if stats and all(s is not None and s.has_min_max for s in stats):
                lows.append(min(_minute(s.min) for s in stats))
                highs.append(max(_minute(s.max) for s in stats))
            elif metadata.num_rows:
                minutes = _read_file(file, None, None)["minute"]
                lows.append(int(minutes.min()))
                highs.append(int(minutes.max()))
    if not lows:
        raise MtbfError("no readings to analyse")
    return Span(min(lows), max(highs))


def _minute(value: Any) -> int:
    return int(pd.Timestamp(value).value // NANOSECONDS_PER_MINUTE)


def read_gateway(
    path: Path, gateway: str, first: int | None, last: int | None, rows: bool = False
) -> Columns:
    """One gateway's readings from its own folder, minutes ``first`` to ``last`` (inclusive,
    None: unbounded), as arrays in time order, checked; with ``rows``, also each reading's
    ``file`` (its number among the partition's files) and ``row`` in it."""
    files = partition_files(path, gateway)
    parts = [_read_file(file, first, last, number) for number, file in enumerate(files)]
    columns = (
        parts[0]
        if len(parts) == 1
        else {
            name: np.concatenate([part[name] for part in parts])
            for name in (*FIELDS, "row", "file")
        }
    )
    if bool(np.all(np.diff(columns["minute"]) > 0)):  # time order, no minute twice: as written
        return columns if rows else {name: columns[name] for name in FIELDS}
    order = np.argsort(columns["minute"], kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    same = np.flatnonzero(np.diff(columns["minute"]) == 0)
    if len(same):
        where = [_where(path, gateway, columns, int(i)) for i in (same[0], same[0] + 1)]
        from .analysis import minute_label

        raise MtbfError(
            f"gateway {gateway} has two readings for "
            f"{minute_label(int(columns['minute'][same[0]]))}: {where[0]} and {where[1]}"
        )
    return columns if rows else {name: columns[name] for name in FIELDS}


def _where(path: Path, gateway: str, columns: Columns, index: int) -> str:
    file = partition_files(path, gateway)[int(columns["file"][index])]
    return f"{file}:{int(columns['row'][index])}"


def _read_file(file: Path, first: int | None, last: int | None, number: int = 0) -> Columns:
    """The readings of one file in the period, with each one's 1-based row in the file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shown = str(file)
    try:
        parquet = pq.ParquetFile(file)
        names = parquet.schema_arrow.names
        missing = [c for c in (TIME, *MEASURES) if c not in names]
        if missing:
            raise DataError(shown, f"missing column(s) {', '.join(missing)}")
        wanted = [
            g
            for g in range(parquet.metadata.num_row_groups)
            if _meets(parquet.metadata.row_group(g), names.index(TIME), first, last)
        ]
        starts = np.cumsum(
            [0]
            + [
                parquet.metadata.row_group(g).num_rows
                for g in range(parquet.metadata.num_row_groups)
            ]
        )
        table = parquet.read_row_groups(wanted, columns=[TIME, *MEASURES]) if wanted else None
    except DataError:
        raise
    except Exception as error:
        raise DataError(shown, f"cannot read Parquet file: {error}") from None
    if table is None:
        return {
            name: np.empty(0, np.int64 if name == "minute" else np.float64) for name in FIELDS
        } | {
            "row": np.empty(0, np.int64),
            "file": np.empty(0, np.int16),
        }
    rows = np.concatenate([np.arange(starts[g], starts[g + 1], dtype=np.int64) + 1 for g in wanted])
    time = table.column(TIME)
    if not pa.types.is_timestamp(time.type):
        raise DataError(shown, f"column {TIME} holds {time.type}, not timestamps")
    if time.null_count:
        raise DataError(shown, "missing time", row=int(rows[_first(pc.is_null(time))]))
    ticks = time.cast(pa.int64()).to_numpy()  # in the column's own unit: no conversion pass
    per_minute = NANOSECONDS_PER_MINUTE // _NANOSECONDS[time.type.unit]
    off = ticks % per_minute != 0
    if off.any():
        raise DataError(
            shown, "time is not on a whole minute", row=int(rows[np.flatnonzero(off)[0]])
        )
    minutes = ticks // per_minute
    keep = np.ones(len(minutes), dtype=bool)
    if first is not None:
        keep &= minutes >= first
    if last is not None:
        keep &= minutes <= last
    columns: Columns = {"minute": minutes}
    for measure in MEASURES:
        values = table.column(measure).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        bad = np.isnan(values)
        if bad.any():
            raise DataError(
                shown, f"missing value in column {measure}", row=int(rows[np.flatnonzero(bad)[0]])
            )
        columns[measure] = values
    columns["row"] = rows
    columns["file"] = np.full(len(minutes), number, np.int16)
    if not keep.all():
        columns = {name: values[keep] for name, values in columns.items()}
    return columns


def _first(mask: Any) -> int:
    return int(np.flatnonzero(mask.to_numpy(zero_copy_only=False))[0])


def _meets(group: Any, column: int, first: int | None, last: int | None) -> bool:
    """Whether a row group's time range may meet the period (no statistics: it may)."""
    stats = group.column(column).statistics
    if stats is None or not stats.has_min_max:
        return True
    low, high = _minute(stats.min), _minute(stats.max)
    return (first is None or high >= first) and (last is None or low <= last)
