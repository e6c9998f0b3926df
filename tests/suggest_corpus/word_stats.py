"""Word statistics of a few generated documents, the way a text-mining script does it."""

import collections
import string

DOCUMENTS = [" ".join(f"word{(i * 7 + j * 3) % 23}" for j in range(40 + i)) for i in range(12)]
STOP = frozenset({"word1", "word2"})


def tokens(text):
    return [t.strip(string.punctuation) for t in text.split()]


def counts(text, stop):
    return collections.Counter(t for t in tokens(text) if t not in stop)


def main():
    per_document = []
    for text in DOCUMENTS:  # expect: parallel
        per_document.append(counts(text, STOP))
    merged = collections.Counter()
    for counter in per_document:  # expect: sequential
        merged.update(counter)
    lengths = [len(tokens(text)) for text in DOCUMENTS]  # expect: parallel
    print(merged.most_common(5))
    print(sum(lengths), max(lengths))


if __name__ == "__main__":
    main()
