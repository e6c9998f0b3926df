"""A program with no parallel region: compiles with a warning, Main.py still runs."""

import sys

print("arguments:", sys.argv[1:])
print(sum(range(100)))
