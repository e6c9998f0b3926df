"""A kernel that fails on one item: earlier output appears, then the run fails loudly."""

import sys

from toreador import data_parallel_region


def invert(x):
    print(f"inverting {x}")
    return 1 / x


def safe_ratio(values):
    try:
        return data_parallel_region(values, invert)
    except ZeroDivisionError as error:
        print("caught:", error)
        return None


print(safe_ratio([1, 2, 0, 4]))
print(data_parallel_region([4, 2, 1], invert))
values = [5, 4, 3, 2, 1, 0, -1, -2] if len(sys.argv) < 2 else [1, 2]
print(data_parallel_region(values, invert))
print("not reached when an item fails")
