"""Loops whose effects outlive them: a variable read afterwards, a dict filled in place."""

TABLE = {}


def weight(x):
    return (x * 37) % 101


values = []
for x in range(20):  # expect: sequential
    values.append(weight(x))
print("last item", x, sum(values))

sizes = []
for key in range(10):  # expect: sequential
    size = weight(key) % 9
    TABLE[key] = size
    sizes.append(size)
print(sorted(TABLE.items())[:3], sum(sizes))


def summary(limit):
    found = []
    for n in range(limit):  # expect: parallel
        doubled = weight(n) * 2
        shifted = doubled + limit
        found.append(shifted)
    return found


print(summary(12)[-3:])
log = []
tagged = []
for n in range(5):  # expect: sequential
    log.append(n)
    tagged.append(weight(n))
print(log, tagged)
