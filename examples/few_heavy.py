"""A few heavy items: Monte Carlo estimates of pi (the benchmark's heavy-item case)."""

import random
import sys

from toreador import data_parallel_region


def estimate_pi(seed, samples):
    generator = random.Random(seed)
    inside = 0
    for _ in range(samples):
        x, y = generator.random(), generator.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4 * inside / samples


tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 8
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
estimates = data_parallel_region(range(tasks), estimate_pi, samples)
for seed, estimate in enumerate(estimates):
    print(f"seed {seed}: {estimate:.6f}")
print(f"mean {sum(estimates) / len(estimates):.6f}")
