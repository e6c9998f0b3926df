"""The failure rules of mtbf.md, vectorised over arrays of readings.

- Battery not charging: pdc > pcons and soc < 100 and pbatt < 0 (each such minute is one).
- No solar generation: the reading at noon (UTC unless a time zone is given) has pdc == 0.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .schema import NANOSECONDS_PER_MINUTE

MINUTES_PER_DAY = 1440
NOON = 12 * 60


def battery_failing(
    pdc: npt.NDArray[np.float64],
    pcons: npt.NDArray[np.float64],
    soc: npt.NDArray[np.float64],
    pbatt: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Minutes where solar covers the load, the battery is not full, yet it discharges."""
    return (pdc > pcons) & (soc < 100) & (pbatt < 0)


def solar_failing(
    minutes: npt.NDArray[np.int64], pdc: npt.NDArray[np.float64], timezone: str = "UTC"
) -> npt.NDArray[np.bool_]:
    """Readings taken at noon (local to ``timezone``) that show no generation.

    Only readings with pdc == 0 are converted to local time, so a time zone costs little.
    """
    failing: npt.NDArray[np.bool_] = pdc == 0
    if timezone == "UTC":
        at_noon: npt.NDArray[np.bool_] = minutes % MINUTES_PER_DAY == NOON
        return failing & at_noon
    import pandas as pd

    candidates = np.flatnonzero(failing)
    local = pd.DatetimeIndex(minutes[candidates] * NANOSECONDS_PER_MINUTE, tz="UTC").tz_convert(
        timezone
    )
    local_noon = np.asarray((local.hour == 12) & (local.minute == 0), dtype=bool)
    result = np.zeros(len(minutes), dtype=bool)
    result[candidates[local_noon]] = True
    return result
