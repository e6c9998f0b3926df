"""Groups of readings: a summary per group, built from a loop over its members."""

GROUPS = {f"grp{g}": [(g * 17 + i * 5) % 23 for i in range(30)] for g in range(7)}


def smooth(value, weight):
    return round(value * weight + 1, 2)


summaries = []
for name in sorted(GROUPS):  # expect: parallel
    members = GROUPS[name]
    smoothed = []
    for value in members:
        smoothed.append(smooth(value, 0.5))
    summaries.append((name, max(smoothed), round(sum(smoothed) / len(smoothed), 3)))
for line in summaries:  # expect: sequential
    print(line)
