"""A tiny genetic algorithm: the fitness of a population scored in parallel by a bound method,
generation after generation (a region called in a loop), with a seeded generator in the
main program only."""

import random

from toreador import data_parallel_region


class Problem:
    def __init__(self, target):
        self.target = target

    def fitness(self, genome):
        return sum(1 for a, b in zip(genome, self.target, strict=True) if a == b)


def mutate(genome, rng, rate=0.1):
    return [1 - bit if rng.random() < rate else bit for bit in genome]


def evolve(problem, generations, size, rng):
    population = [[rng.randint(0, 1) for _ in problem.target] for _ in range(size)]
    for generation in range(generations):
        scores = data_parallel_region(population, problem.fitness)
        ranked = [g for _, g in sorted(zip(scores, population, strict=True), key=lambda p: -p[0])]
        best = max(scores)
        print(f"generation {generation}: best {best}/{len(problem.target)}")
        if best == len(problem.target):
            break
        parents = ranked[: size // 2]
        population = parents + [mutate(rng.choice(parents), rng) for _ in parents]
    return best


if __name__ == "__main__":
    rng = random.Random(7)
    problem = Problem([rng.randint(0, 1) for _ in range(24)])
    print("final", evolve(problem, 15, 20, rng))
