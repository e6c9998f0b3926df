"""The kernel and its helper are defined after the function that uses them."""

import sys

from toreador import data_parallel_region


def main(count):
    words = [f"w{i}" for i in range(count)]
    for word, shout in zip(words, data_parallel_region(words, shout_word), strict=True):
        print(word, shout)


def shout_word(word):
    return decorate(word.upper())


def decorate(text):
    return f"<{text}>"


main(int(sys.argv[1]) if len(sys.argv) > 1 else 25)
