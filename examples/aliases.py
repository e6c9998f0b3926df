"""Every import form of the primitives: plain, aliased, the module, the module aliased."""

import toreador
import toreador as t
from toreador import bag_of_task
from toreador import data_parallel_region as dpr


def square(x):
    return x * x


def negate(x):
    return -x


print(dpr(range(10), square))
print(t.producer_consumer(iter([3, 1, 2]), negate))
print(toreador.data_parallel_region([1.5, 2.5], square))
print(bag_of_task([2, 3], [square, negate]))
