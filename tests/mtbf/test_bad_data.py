"""Bad data: a one-line error naming the file and row, exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import HEADER, run_module

GOOD = "G1,2017-06-04T09:00:00Z,1,0.5,2,50\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("", "{file}: empty file", id="empty-file"),
        pytest.param(HEADER, "{file}: empty file: a header but no readings", id="header-only"),
        pytest.param(
            "gateway,time,pcons,pbatt,pdc\n" + GOOD.rsplit(",", 1)[0] + "\n",
            "{file}:1: missing column(s) soc",
            id="missing-column",
        ),
        pytest.param(
            HEADER + GOOD + "G1,yesterday,1,0.5,2,50\n",
            "{file}:3: unparsable time 'yesterday'",
            id="unparsable-time",
        ),
        pytest.param(
            HEADER + GOOD + GOOD.replace(":00:00Z", ":00:30Z"),
            "{file}:3: time '2017-06-04T09:00:30Z' is not on a whole minute",
            id="seconds",
        ),
        pytest.param(
            HEADER + GOOD * 0 + GOOD + "G1,2017-06-04T09:01:00Z,1,n/a,2,50\n",
            "{file}:3: non-numeric value 'n/a' in column pbatt",
            id="non-numeric",
        ),
        pytest.param(
            HEADER + "G1,2017-06-04T09:01:00Z,1,0.5,,50\n",
            "{file}:2: non-numeric value '' in column pdc",
            id="missing-value",
        ),
        pytest.param(
            HEADER + ",2017-06-04T09:01:00Z,1,0.5,2,50\n",
            "{file}:2: missing gateway id",
            id="missing-gateway",
        ),
        pytest.param(
            HEADER + GOOD + GOOD,
            "gateway G1 has two readings for 2017-06-04 09:00:00: {file}:2 and {file}:3",
            id="duplicate-minute",
        ),
    ],
)
def test_bad_csv(content: str, message: str, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text(content)
    result = run_module("analyse", str(data))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: " + message.format(file=data)), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unknown_gateway_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text(HEADER + GOOD)
    result = run_module("analyse", str(data), "--gateway", "G1", "--gateway", "NOPE")
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"error: unknown gateway(s) NOPE: no readings in {data} (known: G1)"
    )


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    missing = run_module("analyse", str(tmp_path / "nothing.csv"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    empty = run_module("analyse", str(tmp_path))
    assert empty.returncode == 2 and "no .csv or .parquet files" in empty.stderr


def test_bad_row_in_one_file_of_a_folder_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEADER + GOOD)
    (tmp_path / "b.csv").write_text(HEADER + GOOD.replace("G1", "G2").replace(",2,50", ",x,50"))
    result = run_module("analyse", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'b.csv'}:2: non-numeric value 'x'")


@pytest.mark.parametrize(
    "far_time",
    [
        pytest.param("2017-06-04T10:00:00Z", id="dense-grid"),
        pytest.param("2031-01-01T00:00:00Z", id="sparse-hash"),
    ],
)
def test_duplicate_in_shuffled_rows_names_both_rows(far_time: str, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text(
        HEADER + GOOD + GOOD.replace("G1,", "G2,") + f"G2,{far_time},1,0.5,2,50\n" + GOOD
    )
    result = run_module("analyse", str(data))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: gateway G1 has two readings for 2017-06-04 09:00:00: {data}:2 and {data}:5"
    )
