"""Process image tiles: each tile from its pixels alone; a palette built as it goes."""

SIZE = 16


def tile(index):
    return [[(index * 31 + r * 7 + c) % 256 for c in range(SIZE)] for r in range(SIZE)]


def brightness(pixels):
    return sum(map(sum, pixels)) / (SIZE * SIZE)


def threshold(pixels, level):
    return sum(1 for row in pixels for v in row if v > level)


tiles = [tile(i) for i in range(12)]  # expect: parallel
levels = [round(brightness(t), 2) for t in tiles]  # expect: parallel
counts = []
for pixels in tiles:  # expect: parallel
    counts.append(threshold(pixels, 128))
palette = []
for level in levels:  # expect: sequential
    if level not in palette:
        palette.append(level)
print(levels[:4], counts[:4], len(palette))
