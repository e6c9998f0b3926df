"""A small genetic algorithm, as optimisation scripts write one: the population size comes
from the command line, the fitness is a bound method of the algorithm's class, and the
mutation is a partial of a function nested in the step that uses it."""

import functools
import random
import sys

from toreador import data_parallel_region

POPULATION = int(sys.argv[1]) if len(sys.argv) > 1 else 8


class GeneticAlgorithm:
    def __init__(self, target):
        self.target = target

    def fitness(self, genome):
        return sum(1 for a, b in zip(genome, self.target, strict=True) if a == b)

    def step(self, population, generation):
        def mutate(genome, position):
            flipped = "1" if genome[position] == "0" else "0"
            return genome[:position] + flipped + genome[position + 1 :]

        scores = data_parallel_region(population, self.fitness)
        ranked = [g for _, g in sorted(zip(scores, population, strict=True), reverse=True)]
        parents = ranked[: POPULATION // 2]
        children = data_parallel_region(
            parents, functools.partial(mutate, position=generation % len(self.target))
        )
        return parents + children

    def run(self, generations):
        rng = random.Random(7)
        population = ["".join(rng.choice("01") for _ in self.target) for _ in range(POPULATION)]
        for generation in range(generations):
            population = self.step(population, generation)
            print(f"generation {generation}: {' '.join(population)}")
        return max(data_parallel_region(population, self.fitness))


if __name__ == "__main__":
    print(GeneticAlgorithm("1011001110").run(4))
