"""Settings read from the command line into module-level constants that the kernel uses, as
small scripts do instead of passing them around."""

import sys

from toreador import data_parallel_region

THRESHOLD = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
LABEL = sys.argv[2].upper() if len(sys.argv) > 2 else "DEFAULT"


def classify(value):
    return f"{LABEL}:{'high' if value >= THRESHOLD else 'low'}"


if __name__ == "__main__":
    print(data_parallel_region([0.1, 0.4, 0.6, 0.9], classify))
