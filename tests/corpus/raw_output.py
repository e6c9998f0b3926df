"""Kernels that write bytes to sys.stdout.buffer between print calls, as tools that emit
already-encoded records do: the bytes must come out in place, item after item."""

import hashlib
import sys

from toreador import data_parallel_region


def digest(name):
    print(f"hashing {name}")
    line = f"{name}: {hashlib.sha256(name.encode()).hexdigest()[:12]}\n"
    sys.stdout.buffer.write(line.encode("utf-8"))
    sys.stdout.flush()
    return len(name)


if __name__ == "__main__":
    names = ["café", "naïve", "plain", "日本"]
    print(data_parallel_region(names, digest))
