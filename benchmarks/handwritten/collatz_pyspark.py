"""Hand-written PySpark: what examples/many_tiny.py does, as a PySpark user would write it."""

import sys

from pyspark.sql import SparkSession


def collatz_length(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def job(spark, arguments):
    count = int(arguments[0]) if arguments else 50000
    lengths = spark.sparkContext.parallelize(range(1, count + 1)).map(collatz_length).collect()
    best = max(range(count), key=lengths.__getitem__)
    print(f"{count} numbers, longest chain starts at {best + 1} with {lengths[best]} steps")
    print(f"total steps {sum(lengths)}")


if __name__ == "__main__":
    session = SparkSession.builder.master("local[*]").appName("collatz").getOrCreate()
    job(session, sys.argv[1:])
    session.stop()
