"""DataFrames as items: a table split by group, each group summarised by a kernel that only
calls the frame's methods (it never imports pandas itself), as df.groupby(...).apply would."""

import pandas as pd

from toreador import data_parallel_region


def summarise(group):
    name, frame = group
    return name, int(frame["units"].sum()), round(float(frame["price"].mean()), 3)


def sales():
    return pd.DataFrame(
        {
            "shop": [f"s{n % 5}" for n in range(60)],
            "units": [(n * 7) % 11 for n in range(60)],
            "price": [1.5 + (n % 9) * 0.25 for n in range(60)],
        }
    )


if __name__ == "__main__":
    groups = list(sales().groupby("shop"))
    for name, units, price in data_parallel_region(groups, summarise):
        print(f"{name}: {units} units at {price} on average")
