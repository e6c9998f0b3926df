"""Reading the readings: CSV or Parquet files, or a folder of them, validated row by row.

Rows may come in any order and mix gateways. Bad data is a DataError naming the file and the
row (CSV: the line number, header = line 1; Parquet: the 1-based row), never a traceback and
never a silently dropped row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .errors import DataError, MtbfError
from .schema import COLUMNS, GATEWAY, MEASURES, NANOSECONDS_PER_MINUTE, TIME

SUFFIXES = (".csv", ".parquet", ".pq")
BATCH_ROWS = 1 << 20  # Parquet is checked this many rows at a time


@dataclass(frozen=True)
class Readings:
    """Readings as columns: gateway (categorical), minute since the epoch (int64), measures.

    ``source`` and ``row`` say where each reading came from, for error messages.
    """

    frame: pd.DataFrame
    sources: tuple[str, ...]

    def where(self, position: int) -> str:
        source = self.sources[int(self.frame["source"].iat[position])]
        return f"{source}:{int(self.frame['row'].iat[position])}"


def data_files(path: Path) -> list[Path]:
    """The data files a path names: the file itself, or every CSV/Parquet file in a folder."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
        if not files:
            raise MtbfError(f"{path}: no .csv or .parquet files in this folder")
        return files
    if not path.exists():
        raise MtbfError(f"{path}: no such file or folder")
    return [path]


def _read_typed_csv(path: Path) -> pd.DataFrame | None:
    """The fast path: pyarrow parses a well-formed CSV straight into typed columns.

    None when it cannot; the slow path then reads every cell as text and names the bad one.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    types = {
        GATEWAY: pa.dictionary(pa.int32(), pa.string()),
        TIME: pa.timestamp("s", "UTC"),
        **{m: pa.float64() for m in MEASURES},
    }
    try:
        table = pa_csv.read_csv(
            path,
            convert_options=pa_csv.ConvertOptions(
                column_types=types, include_columns=list(COLUMNS), strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowKeyError, KeyError):
        return None
    return table.to_pandas()


def _read_raw(path: Path, fast: bool) -> tuple[pd.DataFrame, int]:
    """The file's table and the number of the first data row (for messages)."""
    shown = str(path)
    if fast and path.stat().st_size > 0:
        typed = _read_typed_csv(path)
        if typed is not None:
            return typed, 2
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            engine="c",
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise DataError(shown, "empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        raise DataError(shown, f"cannot read CSV: {error}") from None
    return frame, 2


def _first_bad(bad: np.ndarray, first_row: int) -> int:
    return int(np.flatnonzero(bad)[0]) + first_row


def _gateway_column(values: pd.Series) -> pd.Categorical:
    """Gateway ids as a categorical with stripped names (cheap: strings are touched once)."""
    raw = pd.Categorical(values)
    names = np.array([str(c).strip() for c in raw.categories], dtype=object)
    unique, inverse = np.unique(names, return_inverse=True) if len(names) else (names, names)
    codes = np.where(raw.codes < 0, -1, inverse[raw.codes] if len(names) else -1)
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=list(unique))


def read_file(path: Path, source_number: int) -> pd.DataFrame:
    """One file as validated columns.

    A CSV is first read on the fast, typed path; if anything is wrong with it, it is read
    again cell by cell as text, so that the error names the exact row and value.
    """
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, source_number)
    try:
        return _validated(str(path), *_read_raw(path, fast=True), source_number)
    except DataError:
        pass
    return _validated(str(path), *_read_raw(path, fast=False), source_number)


def _read_parquet(path: Path, source_number: int) -> pd.DataFrame:
    """A Parquet file, checked a batch at a time into columns allocated once, so that memory
    stays near one compact copy of the data plus one batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    shown = str(path)
    try:
        parquet = pq.ParquetFile(path)
        missing = [c for c in COLUMNS if c not in parquet.schema_arrow.names]
        if missing:
            raise DataError(
                shown, f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
            )
        total = parquet.metadata.num_rows
        if total == 0:
            raise DataError(shown, "empty file: no readings")
        builder = _ColumnBuilder(total, source_number)
        pending: list[pa.RecordBatch] = []

        def check_pending() -> None:
            raw = pa.Table.from_batches(pending).to_pandas()
            builder.add(_validated(shown, raw, builder.filled + 1, source_number))
            pending.clear()

        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(COLUMNS)):
            pending.append(batch)
            if sum(len(b) for b in pending) >= BATCH_ROWS:
                check_pending()
        if pending:
            check_pending()
    except DataError:
        raise
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise DataError(shown, f"cannot read Parquet file: {error}") from None
    return builder.frame()


class _ColumnBuilder:
    """Columns allocated once and filled part by part; gateway ids coded as they come."""

    def __init__(self, total: int, source_number: int) -> None:
        self.columns = {
            "minute": np.empty(total, np.int64),
            **{m: np.empty(total, np.float64) for m in MEASURES},
            "row": np.empty(total, np.int64),
        }
        self.codes = np.empty(total, np.int32)
        self.names: dict[str, int] = {}
        self.filled = 0
        self.source_number = source_number

    def add(self, part: pd.DataFrame) -> None:
        end = self.filled + len(part)
        gateways = part[GATEWAY].array
        mapping = np.array(
            [self.names.setdefault(str(c), len(self.names)) for c in gateways.categories],
            dtype=np.int32,
        )
        self.codes[self.filled : end] = mapping[gateways.codes]
        for name, values in self.columns.items():
            values[self.filled : end] = part[name].to_numpy()
        self.filled = end

    def frame(self) -> pd.DataFrame:
        size = self.filled
        gateways = pd.Categorical.from_codes(self.codes[:size], categories=list(self.names))
        columns = {name: values[:size] for name, values in self.columns.items()}
        source = np.full(size, self.source_number, dtype=np.int16)
        return pd.DataFrame({GATEWAY: gateways, **columns, "source": source}, copy=False)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after the other, their gateway categories united, column by column."""
    if len(frames) == 1:
        return frames[0]
    gateways = union_categoricals([f[GATEWAY].array for f in frames])
    columns = {
        name: np.concatenate([f[name].to_numpy() for f in frames])
        for name in frames[0].columns
        if name != GATEWAY
    }
    return pd.DataFrame({GATEWAY: gateways, **columns}, copy=False)


def _validated(shown: str, raw: pd.DataFrame, first_row: int, source_number: int) -> pd.DataFrame:
    """Checked, compact columns of one table; ``first_row`` numbers its first row."""
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(
            shown,
            f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}",
            row=1 if first_row == 2 else None,
        )
    if raw.empty:
        raise DataError(shown, "empty file: a header but no readings")
    gateways = _gateway_column(raw[GATEWAY])
    if (gateways.codes < 0).any() or (gateways.categories == "").any():
        bad = (gateways.codes < 0) | np.isin(
            gateways.codes, np.flatnonzero(gateways.categories == "")
        )
        raise DataError(shown, "missing gateway id", row=_first_bad(bad, first_row))
    times = raw[TIME]
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        parsed = times.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(times):
        parsed = times.dt.tz_localize("UTC")  # a naive timestamp column is taken as UTC
    else:
        parsed = pd.to_datetime(times.astype(str), format="ISO8601", utc=True, errors="coerce")
    if parsed.isna().any():
        bad = parsed.isna().to_numpy()
        row = _first_bad(bad, first_row)
        raise DataError(
            shown,
            f"unparsable time {str(times.iat[row - first_row])!r} "
            "(expected ISO-8601, e.g. 2017-06-04T09:29:00Z)",
            row=row,
        )
    nanoseconds = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    off_minute = nanoseconds % NANOSECONDS_PER_MINUTE != 0
    if off_minute.any():
        row = _first_bad(off_minute, first_row)
        raise DataError(
            shown, f"time {str(times.iat[row - first_row])!r} is not on a whole minute", row=row
        )
    columns: dict[str, object] = {
        GATEWAY: gateways,
        "minute": nanoseconds // NANOSECONDS_PER_MINUTE,
    }
    for measure in MEASURES:
        values = pd.to_numeric(raw[measure], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            row = _first_bad(bad, first_row)
            raise DataError(
                shown,
                f"non-numeric value {str(raw[measure].iat[row - first_row])!r} in column {measure}",
                row=row,
            )
        columns[measure] = values.to_numpy(dtype=np.float64)
    columns["source"] = np.full(len(raw), source_number, dtype=np.int16)
    columns["row"] = np.arange(first_row, first_row + len(raw), dtype=np.int64)
    del raw, times, parsed
    return pd.DataFrame(columns, copy=False)


def load_readings(path: Path) -> Readings:
    """Every reading under ``path``, gateways as a categorical column."""
    from .dataset import is_dataset

    if is_dataset(path):
        return _dataset_readings(path)
    files = data_files(path)
    frame = _concat([read_file(file, number) for number, file in enumerate(files)])
    return Readings(frame, tuple(str(f) for f in files))


def from_frame(frame: pd.DataFrame, source: str) -> Readings:
    """Readings from an in-memory table with the data columns (the REST path uses this)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(source, f"missing column(s) {', '.join(missing)}")
    times = pd.to_datetime(frame[TIME], format="ISO8601", utc=True)
    result = pd.DataFrame(
        {
            GATEWAY: frame[GATEWAY].astype(str).astype("category"),
            "minute": times.to_numpy(dtype="datetime64[ns]").astype(np.int64)
            // NANOSECONDS_PER_MINUTE,
            **{m: pd.to_numeric(frame[m]).to_numpy(dtype=np.float64) for m in MEASURES},
            "source": np.zeros(len(frame), dtype=np.int16),
            "row": np.arange(1, len(frame) + 1, dtype=np.int64),
        }
    )
    return Readings(result, (source,))


def _dataset_readings(path: Path) -> Readings:
    """A whole partitioned data set in memory (what the REST service serves from); the
    analysis reads such a data set a gateway at a time instead."""
    from .dataset import dataset_gateways, partition_files, read_gateway

    gateways = dataset_gateways(path)
    sources: list[str] = []
    frames = []
    for code, gateway in enumerate(gateways):
        columns = read_gateway(path, gateway, None, None, rows=True)
        size = len(columns["minute"])
        frames.append(
            pd.DataFrame(
                {
                    GATEWAY: pd.Categorical.from_codes(
                        np.full(size, code, np.int32), categories=gateways
                    ),
                    "minute": columns["minute"],
                    **{m: columns[m] for m in MEASURES},
                    "source": (columns["file"] + len(sources)).astype(np.int16),
                    "row": columns["row"],
                },
                copy=False,
            )
        )
        sources += [str(file) for file in partition_files(path, gateway)]
    return Readings(_concat(frames), tuple(sources))
