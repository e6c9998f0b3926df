"""The chart and the synthetic data generator."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from mtbf_example.data import load_readings
from mtbf_example.formula import mtbf
from mtbf_example.generate import generate
from mtbf_example.pipeline import run_analysis

from .helpers import BATTERY_FAILS, FINE, row, run_module, write_csv


def test_chart_is_a_png_with_one_bar_group_per_gateway(tmp_path: Path) -> None:
    rows = []
    for number, gateway in enumerate(["UTX000003", "UTX000001", "UTX000002"]):
        for minute in range(60):
            failing = minute % (10 + 5 * number) == 0
            rows.append(
                row(gateway, f"2017-06-04T09:{minute:02d}:00Z", BATTERY_FAILS if failing else FINE)
            )
    data = write_csv(tmp_path / "data.csv", rows)
    result = run_module("chart", str(data), "--out", str(tmp_path / "chart.png"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["gateways"] == ["UTX000001", "UTX000002", "UTX000003"]
    assert summary["bar_groups"] == 3
    assert summary["best"] == "UTX000002"  # fewest failures: 3 (every 20 minutes)
    png = (tmp_path / "chart.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 600 and height >= 400


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    folder = tmp_path_factory.mktemp("generated")
    truths = dict(generate(folder / "homes.csv", homes=4, days=3, seed=11))
    return folder, truths


def test_generator_is_deterministic_for_a_seed(generated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, truths = generated
    again = dict(generate(tmp_path / "homes.csv", homes=4, days=3, seed=11))
    assert again == truths
    assert (tmp_path / "homes.csv").read_bytes() == (folder / "homes.csv").read_bytes()
    other = dict(generate(tmp_path / "other.csv", homes=4, days=3, seed=12))
    assert other != truths


def test_analysis_finds_exactly_the_injected_failures(generated) -> None:  # type: ignore[no-untyped-def]
    folder, truths = generated
    results, period = run_analysis(load_readings(folder / "homes.csv"), None, None, None)
    assert [r.gateway for r in results] == sorted(truths)
    assert period.end - period.start == 3 * 1440 - 1
    for result in results:
        truth = truths[result.gateway]
        assert result.battery == mtbf(np.array(truth.battery, dtype=np.int64))
        assert result.solar == mtbf(np.array(truth.solar, dtype=np.int64))
    assert sum(r.battery.failures for r in results) > 0
    assert sum(r.solar.failures for r in results) > 0


def test_formats_agree(generated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, _ = generated
    list(generate(tmp_path / "homes.parquet", homes=4, days=3, seed=11))
    list(generate(tmp_path / "folder", homes=4, days=3, seed=11, kind="csv-folder"))
    list(generate(tmp_path / "dataset", homes=4, days=3, seed=11))
    paths = (folder / "homes.csv", tmp_path / "homes.parquet", tmp_path / "folder")
    outputs = {run_module("analyse", str(path)).stdout for path in (*paths, tmp_path / "dataset")}
    assert len(outputs) == 1 and outputs != {""}
    assert len(list((tmp_path / "folder").glob("*.csv"))) == 4
    assert len(list((tmp_path / "dataset").glob("gateway=*/part-0.parquet"))) == 4


def test_generate_command_writes_truth(tmp_path: Path) -> None:
    result = run_module(
        "generate",
        str(tmp_path / "d.parquet"),
        "--homes",
        "2",
        "--days",
        "1",
        "--truth",
        str(tmp_path / "truth.json"),
    )
    assert result.returncode == 0, result.stderr
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert len(truth) == 2 and all(set(t) == {"battery", "solar"} for t in truth.values())


def test_the_docs_figure_14_is_what_the_commands_make(tmp_path: Path) -> None:
    """docs/mtbf-example.md shows five installations over six months: the JSON there is
    what the commands it names make, and the chart names the installation the text names."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    data = tmp_path / "fig14"
    made = run_module(
        "generate", str(data), "--homes", "5", "--days", "181", "--start", "2017-01-01",
        "--seed", "14",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    analysed = run_module("analyse", str(data), "--json", str(tmp_path / "report.json"))
    assert analysed.returncode == 0, analysed.stderr
    assert (tmp_path / "report.json").read_text() == (docs / "mtbf-figure14.json").read_text()
    charted = run_module("chart", str(data), "--out", str(tmp_path / "chart.png"))
    best = json.loads(charted.stdout)["best"]
    assert f'"best": "{best}"' in (docs / "mtbf-example.md").read_text()
