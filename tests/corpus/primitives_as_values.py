"""The primitives themselves passed around: an executor chosen from a table at run time, as
scripts that switch between `map` and `pool.map` do, and usage errors caught by type."""

import toreador as tr
from toreador import PrimitiveUsageError, bag_of_task
from toreador import data_parallel_region as dpr

EXECUTORS = {"parallel": dpr, "tasks": tr.bag_of_task}


def square(x):
    return x * x


def run_with(name, *arguments):
    executor = EXECUTORS[name]
    return executor(*arguments)


if __name__ == "__main__":
    mapper = dpr
    print(mapper([-1, -2, 3], abs))
    print(run_with("parallel", [1, 2, 3], square))
    print(run_with("tasks", ["4", 5], [int, str]))
    try:
        bag_of_task([1, 2], [str])
    except PrimitiveUsageError as error:
        print("usage:", error)
    try:
        tr.data_parallel_region([1], 42)
    except tr.PrimitiveUsageError as error:
        print("usage:", type(error).__name__, isinstance(error, TypeError))
