"""Per gateway: its series, its failures, the gaps between them, then one row of a report
(the shape of an MTBF analysis written as a plain program)."""

READINGS = {f"g{i}": [(m, (m * (i + 3)) % 11) for m in range(300)] for i in range(6)}
LIMIT = 9


def failures(series, limit):
    return [m for m, v in series if v > limit]


def mtbf(times, span):
    return round(span / len(times), 3) if times else None


def main():
    names = sorted(READINGS)
    span = 300
    report = []
    for name in names:  # expect: parallel
        series = READINGS[name]
        failed = failures(series, LIMIT)
        gaps = []
        for minute in failed:
            gaps.append(minute % 7)
        report.append((name, mtbf(failed, span), sum(gaps)))
    for row in report:  # expect: sequential
        print(row)


main()
