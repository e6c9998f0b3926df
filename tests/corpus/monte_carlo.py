"""Estimating pi with independent seeded streams, as a multiprocessing script would: each task
gets its own seed, so the result does not depend on which worker runs it."""

import random
import sys
from functools import partial

from toreador import data_parallel_region


def hits(seed, samples):
    rng = random.Random(seed)
    inside = 0
    for _ in range(samples):
        x, y = rng.random(), rng.random()
        inside += x * x + y * y <= 1.0
    return inside


def estimate(tasks, samples):
    counted = data_parallel_region(list(range(tasks)), partial(hits, samples=samples))
    return 4.0 * sum(counted) / (tasks * samples)


if __name__ == "__main__":
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    print(f"pi ~ {estimate(tasks, 20_000):.6f} from {tasks} tasks")
