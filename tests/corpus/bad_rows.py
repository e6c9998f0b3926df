"""Parsing rows where one is malformed, with no try/except around the region: the run must
fail as the sequential one does, after printing what the rows before it printed."""

import csv
import io

from toreador import data_parallel_region

DATA = """id,reading
1,3.5
2,4.25
3,oops
4,5.0
"""


def parse(row):
    value = float(row["reading"])
    print(f"row {row['id']}: {value}")
    return value


if __name__ == "__main__":
    rows = list(csv.DictReader(io.StringIO(DATA)))
    print("parsed", sum(data_parallel_region(rows, parse)))
