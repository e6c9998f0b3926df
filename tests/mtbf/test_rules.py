"""The failure rules and the MTBF formula on hand-made days whose answer is worked out here."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from .helpers import BATTERY_FAILS, DEAD_NOON, FINE, row, run_module, write_csv

DAY = "2017-06-04"


def report(tmp_path: Path, rows: list[str], *options: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    data = write_csv(tmp_path / "data.csv", rows)
    result = run_module("analyse", str(data), "--json", str(tmp_path / "r.json"), *options)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads((tmp_path / "r.json").read_text())


def expected(gateway: str, start: str, end: str, battery: str, solar: str) -> str:
    return (
        f"For Gateway {gateway} between {start} and {end}\n"
        f"- MTBF for Battery not charging: {battery}\n"
        f"- MTBF for System not producing Solar: {solar}\n"
    )


def test_no_failures(tmp_path: Path) -> None:
    rows = [row("G1", f"{DAY}T{h:02d}:00:00Z", FINE) for h in range(24)]
    text, data = report(tmp_path, rows)
    assert text == expected(
        "G1",
        f"{DAY} 00:00:00",
        f"{DAY} 23:00:00",
        "0.0 minutes (no failures)",
        "0.0 minutes (no failures)",
    )
    assert data["G1"]["battery"] == {
        "minutes_between_failures": 0,
        "failures": 0,
        "mtbf_minutes": 0.0,
    }


def test_one_failure(tmp_path: Path) -> None:
    rows = [
        row("G1", f"{DAY}T09:00:00Z", FINE),
        row("G1", f"{DAY}T09:01:00Z", BATTERY_FAILS),
        row("G1", f"{DAY}T09:02:00Z", FINE),
    ]
    text, data = report(tmp_path, rows)
    assert data["G1"]["battery"] == {
        "minutes_between_failures": 0,
        "failures": 1,
        "mtbf_minutes": 0.0,
    }
    assert text.splitlines()[1] == "- MTBF for Battery not charging: 0.0 minutes"


def test_consecutive_failing_minutes_and_a_gap(tmp_path: Path) -> None:
    # failures at 09:00, 09:01, 09:02 and 10:00: gaps 0 + 0 + 57 = 57 minutes up, 4 failures
    failing = ["09:00", "09:01", "09:02", "10:00"]
    rows = [row("G1", f"{DAY}T{t}:00Z", BATTERY_FAILS) for t in failing]
    rows += [row("G1", f"{DAY}T{t}:00Z", FINE) for t in ["08:59", "09:03", "11:00"]]
    text, data = report(tmp_path, rows)
    assert data["G1"]["battery"] == {
        "minutes_between_failures": 57,
        "failures": 4,
        "mtbf_minutes": 14.25,
    }
    assert text == expected(
        "G1", f"{DAY} 08:59:00", f"{DAY} 11:00:00", "14.25 minutes", "0.0 minutes (no failures)"
    )


def test_failures_across_midnight(tmp_path: Path) -> None:
    # 23:58 and 00:01 the next day: 2 minutes up between them (23:59, 00:00), 2 failures
    rows = [
        row("G1", "2017-06-04T23:58:00Z", BATTERY_FAILS),
        row("G1", "2017-06-05T00:01:00Z", BATTERY_FAILS),
    ]
    _, data = report(tmp_path, rows)
    assert data["G1"]["battery"] == {
        "minutes_between_failures": 2,
        "failures": 2,
        "mtbf_minutes": 1.0,
    }


def test_dead_noon_readings(tmp_path: Path) -> None:
    # dead at noon on two days (1439 minutes up between); dead at 12:01 is not the noon reading
    rows = [
        row("G1", "2017-06-04T12:00:00Z", DEAD_NOON),
        row("G1", "2017-06-04T12:01:00Z", DEAD_NOON),
        row("G1", "2017-06-05T12:00:00Z", DEAD_NOON),
        row("G1", "2017-06-06T12:00:00Z", FINE),
    ]
    text, data = report(tmp_path, rows)
    assert data["G1"]["solar"] == {
        "minutes_between_failures": 1439,
        "failures": 2,
        "mtbf_minutes": 719.5,
    }
    assert text.splitlines()[2] == "- MTBF for System not producing Solar: 719.5 minutes"


def test_noon_in_another_time_zone(tmp_path: Path) -> None:
    # Madrid in June is UTC+2: its noon is 10:00 UTC
    rows = [
        row("G1", "2017-06-04T10:00:00Z", DEAD_NOON),
        row("G1", "2017-06-04T12:00:00Z", DEAD_NOON),
    ]
    _, data = report(tmp_path, rows, "--timezone", "Europe/Madrid")
    assert data["G1"]["solar"]["failures"] == 1


@pytest.mark.parametrize(
    ("values", "fails"),
    [
        pytest.param((1.0, -0.5, 2.0, 100.0), False, id="soc-exactly-100"),
        pytest.param((1.0, -0.5, 2.0, 99.99), True, id="soc-just-below-100"),
        pytest.param((1.0, 0.0, 2.0, 80.0), False, id="pbatt-exactly-0"),
        pytest.param((1.0, -0.001, 2.0, 80.0), True, id="pbatt-just-below-0"),
        pytest.param((2.0, -0.5, 2.0, 80.0), False, id="pdc-equals-pcons"),
    ],
)
def test_battery_rule_boundaries(
    values: tuple[float, float, float, float], fails: bool, tmp_path: Path
) -> None:
    _, data = report(tmp_path, [row("G1", f"{DAY}T09:00:00Z", values)])
    assert data["G1"]["battery"]["failures"] == int(fails)


def test_shuffled_rows_and_several_gateways(tmp_path: Path) -> None:
    rows = []
    for gateway, failing in (("UTXb98803", ["09:00", "09:30"]), ("UTXa00001", ["10:00"])):
        for minute in range(8 * 60, 11 * 60):
            time = f"{minute // 60:02d}:{minute % 60:02d}"
            rows.append(
                row(gateway, f"{DAY}T{time}:00Z", BATTERY_FAILS if time in failing else FINE)
            )
    ordered_text, ordered = report(tmp_path, rows)
    random.Random(4).shuffle(rows)
    shuffled_text, shuffled = report(tmp_path, rows)
    assert shuffled_text == ordered_text and shuffled == ordered
    assert list(shuffled) == ["UTXa00001", "UTXb98803"]  # sorted by gateway id
    assert shuffled["UTXb98803"]["battery"] == {
        "minutes_between_failures": 29,
        "failures": 2,
        "mtbf_minutes": 14.5,
    }
    assert ordered_text.splitlines()[0] == (
        f"For Gateway UTXa00001 between {DAY} 08:00:00 and {DAY} 10:59:00"
    )


def test_period_and_gateway_selection(tmp_path: Path) -> None:
    rows = [row("G1", f"{DAY}T09:0{m}:00Z", BATTERY_FAILS) for m in range(5)]
    rows += [row("G2", f"{DAY}T09:00:00Z", FINE)]
    text, data = report(
        tmp_path,
        rows,
        "--start",
        f"{DAY}T09:01:00Z",
        "--end",
        f"{DAY}T09:03:00Z",
        "--gateway",
        "G1",
    )
    assert list(data) == ["G1"]
    assert data["G1"]["battery"]["failures"] == 3
    assert text.startswith(f"For Gateway G1 between {DAY} 09:01:00 and {DAY} 09:03:00\n")


def test_verbose_logs_failures_and_arithmetic(tmp_path: Path) -> None:
    rows = [
        row("G1", f"{DAY}T09:00:00Z", BATTERY_FAILS),
        row("G1", f"{DAY}T09:10:00Z", BATTERY_FAILS),
    ]
    text, _ = report(tmp_path, rows, "--verbose")
    assert text.splitlines()[1:6] == [
        f"  Battery not charging at {DAY} 09:00:00: pdc=2.0 pcons=1.0 pbatt=-0.5 soc=80.0",
        f"  Battery not charging at {DAY} 09:10:00: pdc=2.0 pcons=1.0 pbatt=-0.5 soc=80.0",
        "  total minutes between failures: 9",
        "  total number of failures: 2",
        "  MTBF: 9/2 = 4.5",
    ]
