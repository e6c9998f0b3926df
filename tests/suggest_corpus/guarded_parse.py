"""Parse numbers that may be malformed: each item on its own, errors turned into None."""

TEXTS = ["12", "x7", "3.5", "", "-4", "1e3", "nan?"] * 4


def parse(text):
    try:
        return float(text)
    except ValueError:
        return None


def main():
    values = []
    for text in TEXTS:  # expect: parallel
        try:
            value = parse(text)
        except TypeError:
            value = None
        values.append(value)
    good = [v for v in values if v is not None]  # expect: sequential
    print(len(good), sum(good))


main()
