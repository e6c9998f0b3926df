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
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path), 1
        except Exception as error:  # pyarrow raises many types for a damaged file
            raise DataError(shown, f"cannot read Parquet file: {error}") from None
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
    try:
        return _validated(path, source_number, fast=True)
    except DataError:
        if path.suffix.lower() != ".csv":
            raise
    return _validated(path, source_number, fast=False)


def _validated(path: Path, source_number: int, fast: bool) -> pd.DataFrame:
    shown = str(path)
    raw, first_row = _read_raw(path, fast)
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
    if pd.api.types.is_datetime64_any_dtype(times):
        parsed = pd.to_datetime(times, utc=True)
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
    return pd.DataFrame(columns)


def load_readings(path: Path) -> Readings:
    """Every reading under ``path``, gateways as a categorical column."""
    files = data_files(path)
    frames = [read_file(file, number) for number, file in enumerate(files)]
    if len(frames) == 1:
        frame = frames[0]
    else:
        gateways = union_categoricals([f[GATEWAY].array for f in frames])
        frame = pd.concat([f.drop(columns=GATEWAY) for f in frames], ignore_index=True)
        frame.insert(0, GATEWAY, gateways)
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
