"""Loops over pairs: each pair unpacked into names, one value per pair."""

PAIRS = {"a": 3, "b": 5, "c": 8}


def cost(name, count, rate):
    return f"{name}:{count * rate}"


def main(rate):
    out = []
    for name, count in sorted(PAIRS.items()):  # expect: parallel
        out.append(cost(name, count, rate))
    print(out)
    ranked = []
    for rank, name in enumerate(sorted(PAIRS)):  # expect: parallel
        ranked.append(f"{rank}.{name}")
    print(ranked)


main(2)
totals = {}
for key, amount in [("x", 1), ("y", 2), ("x", 3)]:  # expect: sequential
    totals[key] = totals.get(key, 0) + amount
print(sorted(totals.items()))
