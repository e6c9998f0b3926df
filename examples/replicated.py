"""Replicated arguments: a lookup table and a factor sent to every worker."""

from toreador import bag_of_task, data_parallel_region, producer_consumer


def build_table(size):
    return {i: (i * 7919) % 104729 for i in range(size)}


def lookup(key, table, factor):
    return table[key % len(table)] * factor


def main():
    table = build_table(5000)
    factor = 3
    print(sum(data_parallel_region(range(20000), lookup, table, factor)))
    print(producer_consumer(iter(range(5)), lookup, table, -1))
    print(bag_of_task([table, [1, 2, 3]], [len, sum]))


main()
