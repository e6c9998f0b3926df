"""Kernels that print as they go, and one that fails on a bad record."""


def check(record):
    if record % 7 == 0:
        print(f"record {record} is a multiple of seven")
    return record * 2


def strict(record):
    if record < 0:
        raise ValueError(f"negative record {record}")
    return record + 1


checked = []
for record in range(15):  # expect: parallel
    checked.append(check(record))
print(sum(checked))
try:
    fixed = [strict(r) for r in [3, 2, -1, 5]]  # expect: parallel
except ValueError as error:
    print("failed:", error)
