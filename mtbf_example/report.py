"""The text and JSON reports of mtbf.md."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from .analysis import Failure, GatewayResult, Period
from .formula import Mtbf
from .schema import FAILURE_KINDS


def _kind_lines(
    kind: str, result: Mtbf, failures: Iterable[Failure], period: Period, verbose: bool
) -> list[str]:
    title = FAILURE_KINDS[kind]
    lines = []
    if verbose:
        for failure in failures:
            lines.append(
                f"  {title} at {period.label(failure.minute)}: pdc={failure.pdc} "
                f"pcons={failure.pcons} pbatt={failure.pbatt} soc={failure.soc}"
            )
        lines.append(f"  total minutes between failures: {result.minutes_between_failures}")
        lines.append(f"  total number of failures: {result.failures}")
        if result.failures:
            lines.append(
                f"  MTBF: {result.minutes_between_failures}/{result.failures} = "
                f"{result.mtbf_minutes}"
            )
    none = " (no failures)" if result.failures == 0 else ""
    lines.append(f"- MTBF for {title}: {round(result.mtbf_minutes, 2)} minutes{none}")
    return lines


def text_report(results: Iterable[GatewayResult], period: Period, verbose: bool = False) -> str:
    """The report printed on stdout, gateways in the order given (sorted by the analysis)."""
    lines: list[str] = []
    for result in results:
        lines.append(
            f"For Gateway {result.gateway} between {period.label(period.start)} and "
            f"{period.label(period.end)}"
        )
        lines += _kind_lines("battery", result.battery, result.battery_failures, period, verbose)
        lines += _kind_lines("solar", result.solar, result.solar_failures, period, verbose)
    return "\n".join(lines) + ("\n" if lines else "")


def json_report(
    results: Iterable[GatewayResult],
) -> dict[str, dict[str, dict[str, int | float]]]:
    """The dashboard's JSON: full precision, keyed by gateway id."""
    return {
        r.gateway: {"battery": r.battery.as_json(), "solar": r.solar.as_json()} for r in results
    }


def write_json(results: Iterable[GatewayResult], path: Path) -> None:
    path.write_text(json.dumps(json_report(results), indent=2) + "\n", encoding="utf-8")
