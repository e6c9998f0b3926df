"""A chart comparing installations: MTBF and failure counts per gateway, best one marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .analysis import GatewayResult


@dataclass(frozen=True)
class ChartSummary:
    """What was drawn: one bar group per gateway, and the best installation."""

    gateways: tuple[str, ...]
    best: str | None
    path: Path
    bar_groups: int  # counted from the bars actually drawn


def best_gateway(results: Sequence[GatewayResult]) -> str | None:
    """Fewest failures in all, then the longest battery MTBF: the set-up to copy."""
    if not results:
        return None
    ranked = sorted(
        results,
        key=lambda r: (r.battery.failures + r.solar.failures, -r.battery.mtbf_minutes, r.gateway),
    )
    return ranked[0].gateway


def write_chart(results: Sequence[GatewayResult], path: Path) -> ChartSummary:
    """Draw a PNG: per gateway, MTBF bars (left axis) and failure counts (right axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [r.gateway for r in results]
    x = np.arange(len(names))
    width = 0.2
    figure, left = plt.subplots(figsize=(max(8.0, 0.9 * len(names) + 2), 5.0))
    right = left.twinx()
    left.bar(
        x - 1.5 * width,
        [r.battery.mtbf_minutes for r in results],
        width,
        label="MTBF battery (min)",
        color="#1f77b4",
    )
    left.bar(
        x - 0.5 * width,
        [r.solar.mtbf_minutes for r in results],
        width,
        label="MTBF solar (min)",
        color="#ff7f0e",
    )
    right.bar(
        x + 0.5 * width,
        [r.battery.failures for r in results],
        width,
        label="failures battery",
        color="#aec7e8",
    )
    right.bar(
        x + 1.5 * width,
        [r.solar.failures for r in results],
        width,
        label="failures solar",
        color="#ffbb78",
    )
    left.set_xticks(x, names, rotation=45, ha="right")
    left.set_ylabel("MTBF (minutes)")
    right.set_ylabel("failures")
    best = best_gateway(results)
    if best is not None:
        position = names.index(best)
        left.get_xticklabels()[position].set_fontweight("bold")
        left.text(
            position,
            0.98,
            "best",
            transform=left.get_xaxis_transform(),
            ha="center",
            va="top",
            color="green",
            fontweight="bold",
        )
        left.axvspan(position - 0.45, position + 0.45, color="green", alpha=0.08)
    handles = left.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    figure.legend(
        handles[0] + more[0],
        handles[1] + more[1],
        loc="lower center",
        ncol=4,
        fontsize="small",
        frameon=False,
    )
    left.set_title("MTBF and failures per installation")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=100)
    bars = [p for axes in (left, right) for p in axes.containers for p in p]
    groups = len({round(bar.get_x() + bar.get_width() / 2) for bar in bars})
    plt.close(figure)
    return ChartSummary(tuple(names), best, path, groups)
