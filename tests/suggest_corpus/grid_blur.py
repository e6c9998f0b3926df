"""Blur the rows of a small grid: each row from the grid alone."""


def make_grid(size):
    return [[(r * 31 + c * 17) % 255 for c in range(size)] for r in range(size)]


def blur_row(index, grid):
    row = grid[index]
    above = grid[max(0, index - 1)]
    below = grid[min(len(grid) - 1, index + 1)]
    return [(a + b + c) // 3 for a, b, c in zip(above, row, below, strict=True)]


grid = make_grid(30)
blurred = []
for index in range(len(grid)):  # expect: parallel
    blurred.append(blur_row(index, grid))
print(sum(map(sum, blurred)))
checksums = []
for row in blurred:  # expect: parallel
    checksums.append(sum(row) % 97)
print(checksums[:5])
