"""A memo shared by the iterations: parallel copies would each fill their own."""

CACHE = {}
SEEN = []


def fib(n):
    if n in CACHE:
        return CACHE[n]
    value = n if n < 2 else fib(n - 1) + fib(n - 2)
    CACHE[n] = value
    return value


def record(n):
    SEEN.append(n)
    return n * n


values = []
for n in range(25):  # expect: sequential
    values.append(record(n))
print(values[-1], len(SEEN))
print([fib(n) for n in range(10, 20)])  # expect: parallel
