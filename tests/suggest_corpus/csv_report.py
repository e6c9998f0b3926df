"""Read a CSV file line by line and compute a per-row figure, then a summary."""

import csv
import os
import tempfile

FOLDER = tempfile.mkdtemp(prefix="csv-report-")
PATH = os.path.join(FOLDER, "sales.csv")
with open(PATH, "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["region", "units", "price"])
    for number in range(30):  # expect: sequential
        writer.writerow([f"r{number % 4}", number * 3 % 17, 2.5 + number % 5])


def revenue(row):
    return round(int(row["units"]) * float(row["price"]), 2)


with open(PATH, newline="") as handle:
    figures = []
    for row in csv.DictReader(handle):  # expect: parallel
        figures.append(revenue(row))
print(len(figures), round(sum(figures), 2))
by_region = {}
with open(PATH, newline="") as handle:
    for row in csv.DictReader(handle):  # expect: sequential
        by_region.setdefault(row["region"], []).append(revenue(row))
print(sorted((k, round(sum(v), 2)) for k, v in by_region.items()))
os.remove(PATH)
os.rmdir(FOLDER)
