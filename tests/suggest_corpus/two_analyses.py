"""Independent analyses of one data set, and a pair that is not independent."""


def histogram(values):
    counts = {}
    for v in values:  # expect: sequential
        counts[v % 5] = counts.get(v % 5, 0) + 1
    return sorted(counts.items())


def extremes(values):
    return min(values), max(values)


def spread(values):
    return max(values) - min(values)


def scaled(values):
    return [v * 2 for v in values]  # expect: parallel


def main():
    data = [(i * 37) % 101 for i in range(500)]
    shape = histogram(data)  # expect: parallel
    ends = extremes(data)
    width = spread(data)
    print(shape, ends, width)
    doubled = scaled(data)  # depends on nothing before, but the next call reads it
    doubled_width = spread(doubled)
    print(doubled_width)


main()
