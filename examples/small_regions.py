"""Small regions in a loop: an optimiser's shape.

Each generation scores 30 small candidate records with a data-parallel region, then runs a
bag of two cheap reductions over the scores. A region this small holds well under a
millisecond of work: the compiled program should run it in place, not in workers.
Run: python examples/small_regions.py [GENERATIONS]
"""

import sys
from dataclasses import dataclass

from toreador import bag_of_task, data_parallel_region


@dataclass(frozen=True)
class Candidate:
    name: str
    weights: tuple[float, ...]


def score(candidate, target):
    return sum((w - t) ** 2 for w, t in zip(candidate.weights, target, strict=True))


def best(scores):
    return min(scores)


def spread(scores):
    return max(scores) - min(scores)


def mutate(candidate, generation, rank):
    shift = ((generation * 7 + rank * 3) % 11 - 5) / 100
    return Candidate(candidate.name, tuple(w + shift for w in candidate.weights))


generations = int(sys.argv[1]) if len(sys.argv) > 1 else 400
target = (0.3, -0.2, 0.5, 0.1)
population = [
    Candidate(f"c{i}", tuple(((i * 13 + j * 5) % 17) / 10 - 0.8 for j in range(4)))
    for i in range(30)
]
for generation in range(generations):
    scores = data_parallel_region(population, score, target)
    low, width = bag_of_task([scores, scores], [best, spread])
    ranked = sorted(zip(scores, population, strict=True), key=lambda pair: pair[0])
    population = [mutate(c, generation, r) for r, (_, c) in enumerate(ranked)]
    if generation % 100 == 0:
        print(f"generation {generation}: best {low:.6f}, spread {width:.6f}")
print(f"final best {min(data_parallel_region(population, score, target)):.6f}")
