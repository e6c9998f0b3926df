"""Hand-written PySpark: what examples/few_heavy.py does, as a PySpark user would write it."""

import random
import sys

from pyspark.sql import SparkSession


def estimate_pi(seed, samples):
    generator = random.Random(seed)
    inside = 0
    for _ in range(samples):
        x, y = generator.random(), generator.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4 * inside / samples


def job(spark, arguments):
    tasks = int(arguments[0]) if arguments else 8
    samples = int(arguments[1]) if len(arguments) > 1 else 100_000
    seeds = spark.sparkContext.parallelize(range(tasks), tasks)
    estimates = seeds.map(lambda seed: estimate_pi(seed, samples)).collect()
    for seed, estimate in enumerate(estimates):
        print(f"seed {seed}: {estimate:.6f}")
    print(f"mean {sum(estimates) / len(estimates):.6f}")


if __name__ == "__main__":
    session = SparkSession.builder.master("local[*]").appName("pi").getOrCreate()
    job(session, sys.argv[1:])
    session.stop()
