"""Totals: a sum of computed values (a region and a sum), a running count that is not."""

import math


def area(radius):
    return math.pi * radius * radius


total = 0.0
for radius in range(1, 30):  # expect: parallel
    total += area(radius / 7)
print(total)
count = 10
for step in range(5):  # expect: sequential
    count += step
print(count)
product = 1
for step in range(1, 6):  # expect: sequential
    product *= step
print(product)
peak = 0
for radius in range(8):  # expect: sequential
    peak = max(peak, area(radius))
print(round(peak, 3))
