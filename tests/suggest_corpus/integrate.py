"""Numerical integration over intervals, each interval on its own."""

import math


def simpson(f, a, b, steps):
    h = (b - a) / steps
    total = f(a) + f(b)
    for k in range(1, steps):  # expect: sequential
        total += (4 if k % 2 else 2) * f(a + k * h)
    return total * h / 3


def piece(bounds):
    a, b = bounds
    return round(simpson(math.sin, a, b, 200), 8)


EDGES = [(i / 4, (i + 1) / 4) for i in range(16)]
pieces = list(map(piece, EDGES))  # expect: parallel
print(round(sum(pieces), 6))
