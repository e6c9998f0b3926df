"""A sibling module of the corpus programs: its functions reach regions by value."""


def cube(x):
    return x * x * x


def normalise(word):
    return word.strip(".,;:!?\"'()").lower()
