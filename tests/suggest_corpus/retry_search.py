"""Search for the first value meeting a condition: the loop stops on a result."""


def cost(candidate, weight):
    return (candidate * 7919) % 1000 * weight


def first_cheap(limit, weight):
    for candidate in range(limit):  # expect: sequential
        if cost(candidate, weight) < 5:
            return candidate
    return None


def costs_of(limit, weight):
    found = []
    for candidate in range(limit):  # expect: parallel
        found.append(cost(candidate, weight))
    return found


print(first_cheap(5000, 1))
print(sum(costs_of(300, 2)))
attempts = 0
while attempts < 3:
    attempts += 1
print(attempts)
