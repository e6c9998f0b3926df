"""Kernels wrapped by the program's own decorators: one written without functools.wraps
(the wrapper keeps its local name), one with it, and a decorator with arguments."""

import functools

from toreador import data_parallel_region


def logged(function):
    def wrapper(*args):
        print("calling", function.__name__, args)
        return function(*args)

    return wrapper


def retried(times):
    def decorate(function):
        @functools.wraps(function)
        def attempt(*args):
            for _ in range(times - 1):
                try:
                    return function(*args)
                except ArithmeticError:
                    continue
            return function(*args)

        return attempt

    return decorate


@logged
def double(x):
    return 2 * x


@retried(3)
def inverse(x):
    return round(1 / x, 3) if x else None


if __name__ == "__main__":
    print(data_parallel_region([1, 2, 3], double))
    print(data_parallel_region([1, 2, 4, 0], inverse))
