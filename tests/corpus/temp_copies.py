"""Counts words over temporary copies of its input, as a batch job that stages files does:
the main program writes the copies with tempfile, the kernels open them by path."""

import os
import shutil
import sys
import tempfile
from collections import Counter

from toreador import data_parallel_region

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "a fox is quick and a dog is lazy",
    "counting words is the hello world of map and reduce",
]


def count_words(path):
    with open(path, encoding="utf-8") as handle:
        return Counter(handle.read().split())


if __name__ == "__main__":
    staging = tempfile.mkdtemp(prefix="stage-")
    paths = []
    for number, text in enumerate(TEXTS * int(sys.argv[1] if len(sys.argv) > 1 else 2)):
        path = os.path.join(staging, f"part{number}.txt")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        paths.append(path)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as extra:
        extra.write("fox fox fox\n")
    paths.append(extra.name)
    total = sum(data_parallel_region(paths, count_words), Counter())
    for word, count in total.most_common(5):
        print(word, count)
    os.unlink(extra.name)
    shutil.rmtree(staging)
