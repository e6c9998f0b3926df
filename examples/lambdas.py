"""Lambda and nested-function kernels that close over no local are lifted to module level."""

from toreador import bag_of_task, data_parallel_region

BASE = 10


def main():
    def add_base(x):
        return x + BASE

    print(data_parallel_region(range(8), lambda x: x * BASE))
    print(data_parallel_region(range(8), add_base))
    print(bag_of_task([1, 2, 3], [lambda v: v + 1, str, add_base]))
    scale = 4
    print(data_parallel_region(range(5), pow, scale))


main()
