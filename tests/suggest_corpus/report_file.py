"""Lines written to one report file: the file is shared by the iterations."""

import os
import tempfile


def describe(n):
    return f"item {n}: {n * n}"


path = os.path.join(tempfile.mkdtemp(prefix="report-"), "report.txt")
with open(path, "w") as report:
    for n in range(10):  # expect: sequential
        report.write(describe(n) + "\n")
with open(path) as report:
    lines = [line.strip() for line in report]  # expect: parallel
print(len(lines), lines[-1])
os.remove(path)
os.rmdir(os.path.dirname(path))
