"""A recursive function per item (the items independent), and a memo filled by main."""

import functools


@functools.cache
def partitions(n, largest):
    if n == 0:
        return 1
    if n < 0 or largest == 0:
        return 0
    return partitions(n - largest, largest) + partitions(n, largest - 1)


def count(n):
    return partitions(n, n)


counts = [count(n) for n in range(1, 40)]  # expect: parallel
print(counts[-3:])
