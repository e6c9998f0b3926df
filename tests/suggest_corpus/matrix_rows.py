"""Row-wise work on a matrix, the way a numerics script without numpy does it."""


def matrix(rows, cols):
    return [[(r + 1) * (c + 2) % 19 for c in range(cols)] for r in range(rows)]


def normalise(row):
    top = max(row) or 1
    return [round(v / top, 3) for v in row]


def dot(row, vector):
    return sum(a * b for a, b in zip(row, vector, strict=True))


M = matrix(20, 8)
V = [1, 0, 2, 1, 0, 3, 1, 1]
normalised = [normalise(row) for row in M]  # expect: parallel
products = []
for row in M:  # expect: parallel
    products.append(dot(row, V))
print(products[:5], normalised[0])
prefix = []
for value in products:  # expect: sequential
    prefix.append(value + (prefix[-1] if prefix else 0))
print(prefix[-1])
