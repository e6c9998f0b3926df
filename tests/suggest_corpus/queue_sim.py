"""A queue simulation: time advances item after item (sequential); the summary statistics
of independent runs do not depend on each other (parallel)."""


def simulate(arrivals, service):
    clock = 0
    waits = []
    for arrival in arrivals:  # expect: sequential
        clock = max(clock, arrival) + service
        waits.append(clock - arrival)
    return sum(waits) / len(waits)


def arrivals_for(run):
    return [i * 3 + (i * run) % 5 for i in range(200)]


runs = []
for run in range(8):  # expect: parallel
    times = arrivals_for(run)
    runs.append(round(simulate(times, 3), 3))
print(runs)
