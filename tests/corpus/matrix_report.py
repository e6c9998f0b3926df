"""Summarises sensor matrices with numpy, after setting numpy's print options and error
handling for the whole script, as analysis scripts do at the top."""

import numpy as np

from toreador import data_parallel_region

np.set_printoptions(precision=2, suppress=True)
np.seterr(divide="ignore", invalid="ignore")


def summarise(seed):
    rng = np.random.default_rng(seed)
    readings = rng.normal(100.0, 15.0, size=(2, 3))
    ratios = readings / np.array([1.0, 0.0, 3.0])  # a zero column: inf, no warning
    return f"seed {seed}: means {readings.mean(axis=1)} ratios {ratios[0]}"


if __name__ == "__main__":
    for line in data_parallel_region(range(4), summarise):
        print(line)
