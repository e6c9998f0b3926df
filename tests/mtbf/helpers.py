"""Hand-made readings for the MTBF tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEADER = "gateway,time,pcons,pbatt,pdc,soc\n"
FINE = (1.0, 0.5, 2.0, 50.0)  # pcons, pbatt (charging), pdc, soc: no rule fires
BATTERY_FAILS = (1.0, -0.5, 2.0, 80.0)  # solar covers the load, not full, discharging
DEAD_NOON = (1.0, -0.5, 0.0, 50.0)  # no generation (at noon: a solar failure)


def row(gateway: str, time: str, values: tuple[float, float, float, float]) -> str:
    return f"{gateway},{time}," + ",".join(str(v) for v in values) + "\n"


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def run_module(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mtbf_example", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )
