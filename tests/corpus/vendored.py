"""Catalogue clean-up with a helper library vendored beside the script (vendor/textkit.py),
found through the folder the script adds to sys.path, as scripts without packaging do."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.join(HERE, "vendor") not in sys.path:
    sys.path.insert(0, os.path.join(HERE, "vendor"))

import textkit  # noqa: E402

from toreador import data_parallel_region  # noqa: E402


def label(name):
    return f"{textkit.initials(name)}:{textkit.slug(name)}"


if __name__ == "__main__":
    names = ["Solar Panel 300W", "Home Battery (10 kWh)", "Smart Meter v2", "Inverter / Hybrid"]
    print(data_parallel_region(names, textkit.slug))
    for line in data_parallel_region(names, label):
        print(line)
