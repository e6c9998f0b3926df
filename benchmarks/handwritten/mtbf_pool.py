"""Hand-written multiprocessing: the flagship on a data set, as a Pool user would write it.

Each gateway's analysis in a pool of the machine's cores (imap, in order, one gateway per
task), the same per-gateway work as mtbf_example/mtbf.py run sequentially inside each task:
the ceiling the compiled flagship is compared with on this machine.
"""

import os
import sys
from multiprocessing import Pool
from pathlib import Path

from mtbf_example.analysis import Bounds
from mtbf_example.mtbf import calculate_mtbf
from mtbf_example.report import text_report
from mtbf_example.sources import DatasetGateway, gateway_sources


def analyse(source: DatasetGateway):  # type: ignore[no-untyped-def]
    return calculate_mtbf(source, Bounds(), "UTC", False)


if __name__ == "__main__":
    sources, bounds = gateway_sources(Path(sys.argv[1]), None, None, None, None)
    with Pool(len(os.sched_getaffinity(0))) as pool:
        found = list(pool.imap(analyse, sources))
    results = sorted((r for r in found if r is not None), key=lambda r: r.gateway)
    sys.stdout.write(text_report(results, bounds.period([r.span for r in results])))
