"""Statistics of the text files of a folder, one file per task: the kernel opens each file by
the path the main program found, as `pool.map(stats, glob(...))` scripts do."""

import os
import sys

from toreador import data_parallel_region


def stats(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return os.path.basename(path), text.count("\n"), len(text.split())


def main(folder):
    paths = sorted(
        os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".txt")
    )
    total = 0
    for name, lines, words in data_parallel_region(paths, stats):
        print(f"{name}: {lines} lines, {words} words")
        total += words
    print(f"{len(paths)} files, {total} words")


if __name__ == "__main__":
    main(sys.argv[1])
