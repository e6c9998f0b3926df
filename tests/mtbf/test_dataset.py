"""The gateway-partitioned Parquet data set: its layout, reading one gateway of it, the same
report as a single file, and bad data named by file and row."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from mtbf_example.analysis import parse_moment
from mtbf_example.dataset import ROW_GROUP_ROWS, dataset_gateways, read_gateway
from mtbf_example.generate import generate

from .helpers import run_module

OPTION_SETS = [
    [],
    ["--verbose", "--start", "2017-06-03T00:00:00Z"],
    ["--end", "2017-06-05T11:59:00Z"],
    [
        "--start",
        "2017-06-02T06:00:00Z",
        "--end",
        "2017-06-06T18:00:00Z",
        "--timezone",
        "Europe/Madrid",
    ],
]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:  # type: ignore[type-arg]
    """The same homes as a partitioned data set and as one Parquet file."""
    folder = tmp_path_factory.mktemp("dataset")
    truths = dict(generate(folder / "homes", homes=4, days=9, seed=5))
    again = dict(generate(folder / "homes.parquet", homes=4, days=9, seed=5))
    assert again == truths
    return folder / "homes", folder / "homes.parquet", truths


def test_one_folder_per_gateway_that_other_tools_read(both) -> None:  # type: ignore[no-untyped-def]
    dataset, single, truths = both
    assert sorted(p.name for p in dataset.iterdir()) == [f"gateway={g}" for g in sorted(truths)]
    assert dataset_gateways(dataset) == sorted(truths)
    # pyarrow's own Hive partitioning, with a partition filter, sees the same readings
    gateway = sorted(truths)[1]
    table = ds.dataset(dataset, format="parquet", partitioning="hive").to_table(
        filter=ds.field("gateway") == gateway
    )
    whole = pq.read_table(single).to_pandas()
    expected = whole[whole["gateway"] == gateway]
    assert table.num_rows == len(expected) == 9 * 1440
    assert np.array_equal(table.column("pbatt").to_numpy(), expected["pbatt"].to_numpy())
    # a gateway's file is in time order, in row groups of a week
    metadata = pq.ParquetFile(dataset / f"gateway={gateway}" / "part-0.parquet").metadata
    assert metadata.row_group(0).num_rows == ROW_GROUP_ROWS
    assert metadata.num_row_groups == 2


def test_a_gateways_period_is_read_alone(both) -> None:  # type: ignore[no-untyped-def]
    dataset, _, truths = both
    gateway = sorted(truths)[0]
    first = parse_moment("2017-06-08T10:00:00Z", "start")
    last = parse_moment("2017-06-08T10:09:00Z", "end")
    columns = read_gateway(dataset, gateway, first, last)
    assert columns["minute"].tolist() == list(range(first, last + 1))
    whole = read_gateway(dataset, gateway, None, None)
    assert len(whole["minute"]) == 9 * 1440
    at = int(np.searchsorted(whole["minute"], first))
    for measure in ("pcons", "pbatt", "pdc", "soc"):
        assert np.array_equal(columns[measure], whole[measure][at : at + 10])


@pytest.mark.parametrize("options", OPTION_SETS, ids=["all", "verbose", "end", "zone"])
def test_analyse_reports_the_same_as_one_file(both, options: list[str]) -> None:  # type: ignore[no-untyped-def]
    dataset, single, _ = both
    from_dataset = run_module("analyse", str(dataset), *options)
    from_file = run_module("analyse", str(single), *options)
    assert from_dataset.returncode == from_file.returncode == 0, from_dataset.stderr
    assert from_dataset.stdout == from_file.stdout
    assert from_dataset.stdout.count("For Gateway") == 4
    assert from_dataset.stderr == ""  # no progress remnants when stderr is not a terminal


def test_chart_and_gateway_choice_read_a_dataset(both, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dataset, single, truths = both
    chosen = sorted(truths)[2:]
    options = [f"--gateway={g}" for g in chosen]
    from_dataset = run_module("analyse", str(dataset), *options)
    assert from_dataset.stdout == run_module("analyse", str(single), *options).stdout
    assert from_dataset.stdout.count("For Gateway") == 2
    charted = run_module("chart", str(dataset), "--out", str(tmp_path / "c.png"))
    assert charted.returncode == 0, charted.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def _copy_with(dataset: Path, target: Path, gateway: str, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of ``dataset`` whose ``gateway`` file is changed by ``change(table)``."""
    import shutil

    shutil.copytree(dataset, target)
    file = target / f"gateway={gateway}" / "part-0.parquet"
    pq.write_table(change(pq.read_table(file)), file, row_group_size=ROW_GROUP_ROWS)
    return file


def test_bad_readings_are_named_by_file_and_row(both, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dataset, _, truths = both
    gateway = sorted(truths)[3]

    def missing_soc(table: pa.Table) -> pa.Table:
        soc = table.column("soc").to_pylist()
        soc[12000] = None
        return table.set_column(table.schema.get_field_index("soc"), "soc", pa.array(soc))

    file = _copy_with(dataset, tmp_path / "nan", gateway, missing_soc)
    result = run_module("analyse", str(tmp_path / "nan"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: {file}:12001: missing value in column soc\n"

    def text_pdc(table: pa.Table) -> pa.Table:
        pdc = table.column("pdc").cast(pa.string())
        return table.set_column(table.schema.get_field_index("pdc"), "pdc", pdc)

    file = _copy_with(dataset, tmp_path / "text", gateway, text_pdc)
    result = run_module("analyse", str(tmp_path / "text"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: {file}: column pdc holds string, not numbers\n"

    def repeated_minute(table: pa.Table) -> pa.Table:
        return pa.concat_tables([table, table.slice(500, 1)])

    file = _copy_with(dataset, tmp_path / "twice", gateway, repeated_minute)
    result = run_module("analyse", str(tmp_path / "twice"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: gateway {gateway} has two readings for 2017-06-01 08:20:00: "
        f"{file}:501 and {file}:{9 * 1440 + 1}\n"
    )


def test_unknown_gateways_and_an_existing_folder_are_clean_errors(both, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dataset, _, _ = both
    result = run_module("analyse", str(dataset), "--gateway", "UTXnope")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: unknown gateway(s) UTXnope: no readings in {dataset}")
    result = run_module("generate", str(dataset), "--homes", "1", "--days", "1")
    assert result.returncode == 2
    assert (
        result.stderr == f"error: {dataset}: exists and is not an empty folder (choose a new one)\n"
    )
    assert len(dataset_gateways(dataset)) == 4  # left as it was


def test_homes_written_at_once_are_the_same_data(both, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dataset, _, truths = both
    again = dict(generate(tmp_path / "homes", homes=4, days=9, seed=5, processes=2))
    assert again == truths
    for gateway in truths:
        part = f"gateway={gateway}/part-0.parquet"
        assert (tmp_path / "homes" / part).read_bytes() == (dataset / part).read_bytes()


def test_a_workers_read_does_not_import_pandas(both) -> None:  # type: ignore[no-untyped-def]
    """Every worker of the compiled flagship reads its gateway: pandas would cost each one
    0.2 s and about 60 MB (pyarrow's ``to_numpy`` imports it), so the read avoids it."""
    dataset, _, truths = both
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mtbf_example.dataset import read_gateway\n"
        f"columns = read_gateway(Path({str(dataset)!r}), {sorted(truths)[0]!r}, None, None)\n"
        "assert len(columns['minute']) == 9 * 1440, len(columns['minute'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_escaped_partition_names_are_the_gateways_pyarrow_sees(both, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Spark and Hive write ``gateway=UTX%3A01`` for a gateway ``UTX:01``; another tool may
    write it as it is. Both are read as ``UTX:01``, as pyarrow's Hive partitioning reads
    them, and the report names it so."""
    import shutil

    dataset, _, truths = both
    first, second = sorted(truths)[:2]
    copy = tmp_path / "escaped"
    copy.mkdir()
    shutil.copytree(dataset / f"gateway={first}", copy / "gateway=UTX%3A01")  # Spark's way
    shutil.copytree(dataset / f"gateway={second}", copy / "gateway=UTX:02")  # as it is
    assert dataset_gateways(copy) == ["UTX:01", "UTX:02"]
    seen = ds.dataset(copy, format="parquet", partitioning="hive").to_table(columns=["gateway"])
    assert sorted(set(seen.column("gateway").to_pylist())) == ["UTX:01", "UTX:02"]
    assert np.array_equal(
        read_gateway(copy, "UTX:01", None, None)["pdc"],
        read_gateway(dataset, first, None, None)["pdc"],
    )
    report = run_module("analyse", str(copy), "--gateway", "UTX:01")
    assert report.returncode == 0, report.stderr
    assert "For Gateway UTX:01 between" in report.stdout


def test_a_gateway_id_that_is_not_a_plain_name_is_written_escaped(tmp_path: Path) -> None:
    """A gateway id with a slash or a percent sign makes one folder, %-encoded as pyarrow
    decodes it, and reads back as itself."""
    import pandas as pd

    from mtbf_example.dataset import DatasetWriter

    writer = DatasetWriter(tmp_path / "odd")
    for gateway in ("site/7", "50%"):
        times = pd.date_range("2017-06-04", periods=3, freq="min", tz="UTC")
        values = {m: [1.0, 2.0, 3.0] for m in ("pcons", "pbatt", "pdc", "soc")}
        writer.write(pd.DataFrame({"gateway": gateway, "time": times, **values}))
    assert sorted(p.name for p in (tmp_path / "odd").iterdir()) == [
        "gateway=50%25",
        "gateway=site%2F7",
    ]
    assert dataset_gateways(tmp_path / "odd") == ["50%", "site/7"]
    seen = ds.dataset(tmp_path / "odd", format="parquet", partitioning="hive")
    assert sorted(set(seen.to_table(columns=["gateway"]).column("gateway").to_pylist())) == [
        "50%",
        "site/7",
    ]
    assert read_gateway(tmp_path / "odd", "site/7", None, None)["pdc"].tolist() == [1.0, 2.0, 3.0]
