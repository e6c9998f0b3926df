"""A kernel that needs module constants, a helper class and an import, transitively."""

import math
from collections import Counter

from toreador import data_parallel_region

SCALE = 3
OFFSETS = (1, 2, 3)
UNUSED = "not shipped"


class Histogram:
    """A helper class used inside the kernel."""

    def __init__(self, bins):
        self.bins = bins

    def bucket(self, value):
        return min(self.bins - 1, int(value) % self.bins)


def describe(n):
    histogram = Histogram(bins=len(OFFSETS) + SCALE)
    values = [math.sqrt(n + offset) * SCALE for offset in OFFSETS]
    return Counter(histogram.bucket(v) for v in values).most_common(1)[0]


for number, result in enumerate(data_parallel_region(range(40), describe)):
    print(number, result)
print(UNUSED)
