"""Kernels that reach a region by value, in the forms people write."""

from functools import partial

from corpus_helpers import cube

from toreador import bag_of_task, data_parallel_region

OFFSET = 10


def square(x):
    return x * x


def scaled(x, k=1):
    return x * k + OFFSET


class Holder:
    def __init__(self, fn):
        self.fn = fn


class Model:
    def __init__(self, weight):
        self.weight = weight

    def predict(self, x):
        return x * self.weight

    @staticmethod
    def double(x):
        return 2 * x

    @classmethod
    def tag(cls, x):
        return f"{cls.__name__}:{x}"


class Adder:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        return x + self.n


def apply_pair(pair):
    fn, value = pair
    return fn(value)


def run(kernel):
    return data_parallel_region([1, 2, 3], kernel)


def with_local():
    k = square
    return data_parallel_region([4, 5, 6], k)


def with_partial():
    f = partial(scaled, k=3)
    return data_parallel_region([1, 2, 3], f)


def main():
    print("parameter", run(square))
    print("local", with_local())
    holder = Holder(square)
    print("attribute", data_parallel_region([7, 8], holder.fn))
    print("item", data_parallel_region([(square, 3), (scaled, 4)], apply_pair))
    print("partial", with_partial())
    print("bound", run(Model(3).predict))
    print("static", run(Model.double))
    print("classmethod", run(Model.tag))
    print("instance", run(Adder(100)))
    print("sibling", run(cube))
    print("bag", bag_of_task([2, 3], [square, cube]))


if __name__ == "__main__":
    main()
