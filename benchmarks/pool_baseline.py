"""Hand-tuned multiprocessing.Pool versions of the two speed-up cases, for scale.

Usage: python pool_baseline.py tiny|heavy ARGS...   (prints what the examples print)
The kernels come from the generated shared module of the example, so the work is identical.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from functools import partial
from pathlib import Path


def main() -> None:
    case, shared_folder, *args = sys.argv[1:]
    sys.path.insert(0, shared_folder)
    workers = len(os.sched_getaffinity(0))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        if case == "tiny":
            from many_tiny_shared import collatz_length

            count = int(args[0])
            lengths = pool.map(collatz_length, range(1, count + 1), chunksize=count // 64)
            best = max(range(count), key=lengths.__getitem__)
            print(f"{count} numbers, longest chain starts at {best + 1} with {lengths[best]} steps")
            print(f"total steps {sum(lengths)}")
        else:
            from few_heavy_shared import estimate_pi

            tasks, samples = int(args[0]), int(args[1])
            estimates = pool.map(partial(estimate_pi, samples=samples), range(tasks), 1)
            for seed, estimate in enumerate(estimates):
                print(f"seed {seed}: {estimate:.6f}")
            print(f"mean {sum(estimates) / len(estimates):.6f}")
    assert Path(shared_folder).is_dir()


if __name__ == "__main__":
    main()
