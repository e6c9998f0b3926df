"""The MTBF formula of mtbf.md, exactly.

A failure occupies its minute; uptime starts the minute after and runs to the next failure:
for failure minutes t1 < ... < tn, minutes between failures = sum(t(i+1) - t(i) - 1) and
MTBF = that sum / n. No failures: MTBF 0.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Mtbf:
    """One kind of failure for one gateway."""

    minutes_between_failures: int
    failures: int
    mtbf_minutes: float

    def as_json(self) -> dict[str, int | float]:
        return {
            "minutes_between_failures": self.minutes_between_failures,
            "failures": self.failures,
            "mtbf_minutes": self.mtbf_minutes,
        }


def mtbf(failure_minutes: npt.NDArray[np.int64]) -> Mtbf:
    """MTBF of sorted, distinct failure minutes (minutes since the epoch)."""
    count = len(failure_minutes)
    if count == 0:
        return Mtbf(0, 0, 0.0)
    between = int(failure_minutes[-1] - failure_minutes[0]) - (count - 1)
    return Mtbf(between, count, between / count)
