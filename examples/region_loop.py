"""An iterative algorithm's shape: a small region called many times in a loop.

Each round is a data-parallel region of 40 items, about 2 ms of work; the engine's cost of
starting and ending a region (forking workers, stopping them) is what this program measures.
Run: python examples/region_loop.py [ROUNDS]
"""

import sys

from toreador import data_parallel_region


def work(x):
    total = 0
    for i in range(1000):
        total += (x * i) % 7
    return total


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
checksum = 0
for step in range(rounds):
    checksum += sum(data_parallel_region(list(range(step, step + 40)), work))
print(checksum)
