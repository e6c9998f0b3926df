"""Many tiny items: Collatz sequence lengths (the speed-up benchmark's small-item case)."""

import sys

from toreador import data_parallel_region


def collatz_length(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


count = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
lengths = data_parallel_region(range(1, count + 1), collatz_length)
best = max(range(count), key=lengths.__getitem__)
print(f"{count} numbers, longest chain starts at {best + 1} with {lengths[best]} steps")
print(f"total steps {sum(lengths)}")
