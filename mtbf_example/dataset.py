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

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import numpy as np
import numpy.typing as npt

from .errors import DataError, MtbfError
from .schema import GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE, TIME

if TYPE_CHECKING:
    import pandas as pd

PARTITION = f"{GATEWAY}="
PART_FILE = "part-0.parquet"
ROW_GROUP_ROWS = 7 * 1440  # a week: a period filter skips whole weeks it does not meet
FIELDS = ("minute", *MEASURES)

Columns = dict[str, npt.NDArray[Any]]
# Measured on a home's year (525,600 minutes), one core: LZ4 without dictionaries, the time
# column delta-encoded (a minute apart: almost nothing to store), is 4.7 MB and reads in
# about 11 ms; zstd with dictionaries (pyarrow's way) 5.6 MB and 37 ms; no compression
# 21 MB and 12 ms. The analysis reads every reading: decoding is its largest cost.
ENCODING: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": False,
    "column_encoding": {TIME: "DELTA_BINARY_PACKED"},
}
_NANOSECONDS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def is_dataset(path: Path) -> bool:
    """A folder with at least one ``gateway=...`` folder in it."""
    return path.is_dir() and any(
        child.name.startswith(PARTITION) and child.is_dir() for child in path.iterdir()
    )


def dataset_gateways(path: Path) -> list[str]:
    """The gateways of a data set, sorted: its partition folders' names, no data read. A
    name is %-decoded as pyarrow and Hive do (Spark writes ``gateway=UTX%3A01`` for
    ``UTX:01``)."""
    names = sorted(
        unquote(child.name[len(PARTITION) :])
        for child in path.iterdir()
        if child.name.startswith(PARTITION) and child.is_dir()
    )
    if not names:
        raise MtbfError(f"{path}: no {PARTITION}... folders: not a partitioned data set")
    return names


def partition_folder(path: Path, gateway: str) -> Path:
    """A gateway's folder: its name as written, %-encoded as this writer writes it, or (a
    writer that escapes other characters) the folder whose decoded name it is."""
    for name in (gateway, quote(gateway, safe="")):
        folder = path / f"{PARTITION}{name}"
        if folder.is_dir() and unquote(name) == gateway:
            return folder
    for child in path.glob(f"{PARTITION}*"):
        if unquote(child.name[len(PARTITION) :]) == gateway and child.is_dir():
            return child
    raise MtbfError(f"unknown gateway {gateway}: no folder {path / (PARTITION + gateway)}")


def partition_files(path: Path, gateway: str) -> list[Path]:
    folder = partition_folder(path, gateway)
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
        folder = self.out / f"{PARTITION}{quote(gateway, safe='')}"
        folder.mkdir()
        table = pa.table(
            {
                TIME: pa.array(
                    frame[TIME].to_numpy(dtype="datetime64[s]"), pa.timestamp("s", "UTC")
                ),
                **{m: pa.array(frame[m].to_numpy(dtype=np.float64)) for m in MEASURES},
            }
        )
        pq.write_table(table, folder / PART_FILE, row_group_size=ROW_GROUP_ROWS, **ENCODING)

    def close(self) -> None:
        """Nothing is kept open between gateways."""


def _time_ranges(
    groups: list[Any], column: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """Each row group's first and last minute, from its statistics (converted at once: a
    year is 53 groups a file); None when a group has none."""
    stats = [group.column(column).statistics for group in groups]
    if not stats or not all(s is not None and s.has_min_max for s in stats):
        return None

    def minutes(values: list[Any]) -> npt.NDArray[np.int64]:
        """Statistics' datetimes (UTC-aware, or naive taken as UTC) as minutes."""
        seconds = [(v if v.tzinfo else v.replace(tzinfo=datetime.UTC)).timestamp() for v in values]
        result: npt.NDArray[np.int64] = np.floor_divide(np.array(seconds), 60).astype(np.int64)
        return result

    return minutes([s.min for s in stats]), minutes([s.max for s in stats])


def read_gateway(
    path: Path, gateway: str, first: int | None, last: int | None, rows: bool = False
) -> Columns:
    """One gateway's readings from its own folder, minutes ``first`` to ``last`` (inclusive,
    None: unbounded), as arrays in time order, checked; with ``rows``, also each reading's
    ``file`` (its number among the partition's files) and ``row`` in it."""
    files = partition_files(path, gateway)
    parts = [
        _read_file(file, first, last, number, rows=True)
        if rows or len(files) > 1
        else _read_file(file, first, last)
        for number, file in enumerate(files)
    ]
    columns = (
        parts[0]
        if len(parts) == 1
        else {
            name: np.concatenate([part[name] for part in parts])
            for name in (*FIELDS, "row", "file")
        }
    )
    minutes = columns["minute"]
    if bool(np.all(minutes[1:] > minutes[:-1])):  # time order, no minute twice: as written
        return columns if rows else {name: columns[name] for name in FIELDS}
    if "row" not in columns:  # out of order: read again with the rows, to name any duplicate
        columns = read_gateway(path, gateway, first, last, rows=True)
        return {name: columns[name] for name in FIELDS}
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
    return columns


def _where(path: Path, gateway: str, columns: Columns, index: int) -> str:
    file = partition_files(path, gateway)[int(columns["file"][index])]
    return f"{file}:{int(columns['row'][index])}"


def _read_file(
    file: Path, first: int | None, last: int | None, number: int = 0, rows: bool = False
) -> Columns:
    """The readings of one file in the period; with ``rows``, also each one's 1-based row in
    the file and ``number`` (the file's among the partition's). Row numbers are otherwise
    worked out only for an error's message: this is the analysis's inner loop."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = str(file)
    try:
        parquet = pq.ParquetFile(file)
        names = parquet.schema_arrow.names
        missing = [c for c in (TIME, *MEASURES) if c not in names]
        if missing:
            raise DataError(shown, f"missing column(s) {', '.join(missing)}")
        groups = [parquet.metadata.row_group(g) for g in range(parquet.metadata.num_row_groups)]
        wanted = list(range(len(groups)))
        ranges = None if first is None and last is None else _time_ranges(groups, names.index(TIME))
        if ranges is not None:  # only the groups that may meet the period
            meets = np.ones(len(groups), dtype=bool)
            if first is not None:
                meets &= ranges[1] >= first
            if last is not None:
                meets &= ranges[0] <= last
            wanted = np.flatnonzero(meets).tolist()
        table = parquet.read_row_groups(wanted, columns=[TIME, *MEASURES], use_threads=False)
    except DataError:
        raise
    except Exception as error:
        raise DataError(shown, f"cannot read Parquet file: {error}") from None
    starts = np.cumsum([0] + [group.num_rows for group in groups])

    def row(index: int) -> int:
        """The 1-based row in the file of the table's ``index``-th reading."""
        sizes = np.cumsum([0] + [groups[g].num_rows for g in wanted])
        at = int(np.searchsorted(sizes, index, side="right")) - 1
        return int(starts[wanted[at]] + index - sizes[at]) + 1

    time = table.column(TIME)
    if not pa.types.is_timestamp(time.type):
        raise DataError(shown, f"column {TIME} holds {time.type}, not timestamps")
    if time.null_count:
        raise DataError(
            shown,
            "missing time",
            row=row(_first_true(_nulls(time))),
        )
    ticks = _numbers(time, np.int64)  # a timestamp is an int64 in the column's own unit
    per_minute = NANOSECONDS_PER_MINUTE // _NANOSECONDS[time.type.unit]
    minutes = ticks // per_minute
    off = minutes * per_minute != ticks
    if off.any():
        raise DataError(shown, "time is not on a whole minute", row=row(_first_true(off)))
    columns: Columns = {"minute": minutes}
    for measure in MEASURES:
        column = table.column(measure)
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise DataError(shown, f"column {measure} holds {column.type}, not numbers")
        if column.null_count:
            raise DataError(
                shown, f"missing value in column {measure}", row=row(_first_true(_nulls(column)))
            )
        if column.type != pa.float64():
            column = column.cast(pa.float64())
        values = _numbers(column, np.float64)
        if np.isnan(np.sum(values)):  # one pass, no mask: a NaN (or inf - inf) makes it NaN
            bad = np.isnan(values)
            if bad.any():
                raise DataError(
                    shown, f"missing value in column {measure}", row=row(_first_true(bad))
                )
        columns[measure] = values
    if rows:
        columns["row"] = np.concatenate(
            [np.arange(starts[g], starts[g + 1], dtype=np.int64) + 1 for g in wanted]
            or [np.empty(0, np.int64)]
        )
        columns["file"] = np.full(len(minutes), number, np.int16)
    if len(minutes) and (
        (first is not None and minutes.min() < first) or (last is not None and minutes.max() > last)
    ):
        keep = np.ones(len(minutes), dtype=bool)
        if first is not None:
            keep &= minutes >= first
        if last is not None:
            keep &= minutes <= last
        columns = {name: values[keep] for name, values in columns.items()}
    return columns


def _numbers(column: Any, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A null-free fixed-width column's values as one array, read from its buffers (a view
    when it is one chunk): pyarrow's own ``to_numpy`` imports pandas, which costs each worker
    that reads a gateway 0.2 s and about 60 MB, and a cast (even to the same type) imports
    pyarrow.compute, 35 ms more in every process that reads."""
    size = np.dtype(dtype).itemsize
    parts = [
        np.frombuffer(chunk.buffers()[1], dtype, len(chunk), chunk.offset * size)
        for chunk in column.chunks
        if len(chunk)
    ]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, dtype)


def _nulls(column: Any) -> npt.NDArray[np.bool_]:
    """Where a column is missing: only for an error's message (pyarrow.compute is slow to
    import)."""
    import pyarrow.compute as pc

    return np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False))


def _first_true(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])
