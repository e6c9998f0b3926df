"""Word frequencies of a text, one chunk of lines per task, in the style of a Pool.map script:
a generator reads the file lazily, each chunk is counted apart, the counts are merged."""

import argparse
import collections
import itertools

from corpus_helpers import normalise

from toreador import producer_consumer


def chunks(path, size):
    with open(path, encoding="utf-8") as handle:
        while True:
            lines = list(itertools.islice(handle, size))
            if not lines:
                return
            yield lines


def count_words(lines, minimum):
    counts = collections.Counter()
    for line in lines:
        for word in line.split():
            word = normalise(word)
            if len(word) >= minimum:
                counts[word] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description="count words")
    parser.add_argument("text")
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--min-length", type=int, default=3)
    args = parser.parse_args()
    total = collections.Counter()
    for counts in producer_consumer(chunks(args.text, args.chunk), count_words, args.min_length):
        total.update(counts)
    for word, count in sorted(total.items(), key=lambda pair: (-pair[1], pair[0]))[:10]:
        print(f"{word:12s} {count}")


if __name__ == "__main__":
    main()
