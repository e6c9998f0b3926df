"""Monte Carlo trials: each with its own seeded generator (parallel), and one drawing from
the module's global random state (sequential: workers would draw another stream)."""

import random


def trial(seed):
    generator = random.Random(seed)
    return sum(generator.random() for _ in range(2000)) / 2000


def global_trial(size):
    return sum(random.random() for _ in range(size)) / size


random.seed(7)
means = []
for seed in range(10):  # expect: parallel
    means.append(round(trial(seed), 6))
print(means[:3])
drawn = [round(global_trial(100), 6) for _ in range(5)]  # expect: sequential
print(drawn)
