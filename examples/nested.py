"""Two-level parallelism: an outer region over groups; inside, a stream and a bag of tasks."""

from toreador import bag_of_task, data_parallel_region, producer_consumer


def chunks(values, size):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def chunk_stats(chunk):
    return (min(chunk), max(chunk), sum(chunk))


def lowest(stats):
    return min(s[0] for s in stats)


def highest(stats):
    return max(s[1] for s in stats)


def analyse_group(group):
    name, values = group
    stats = producer_consumer(chunks(values, 7), chunk_stats)
    low, high = bag_of_task([stats, stats], [lowest, highest])
    return name, low, high, sum(s[2] for s in stats)


groups = [(f"group-{g}", [(g * 31 + i * 17) % 97 for i in range(50 + g)]) for g in range(12)]
for row in data_parallel_region(groups, analyse_group):
    print(row)
