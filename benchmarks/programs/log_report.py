"""A web-server log report, as a team would paste it into the web compiler: about 200 lines,
helpers, a dataclass, constants, and two regions (the parse of each day's log, then a summary
per client). Sequential as written; toreador parallelises the two regions.

Run: python log_report.py [DAYS]
"""

import hashlib
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field

from toreador import bag_of_task, data_parallel_region

METHODS = ("GET", "POST", "PUT", "DELETE")
PATHS = (
    "/",
    "/index.html",
    "/api/orders",
    "/api/orders/42",
    "/api/customers",
    "/static/app.js",
    "/static/site.css",
    "/login",
    "/logout",
    "/search",
)
STATUSES = (200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 500, 503)
CLIENTS = 40
LINES_PER_DAY = 400
SLOW_MS = 750


@dataclass(frozen=True)
class Request:
    day: int
    client: str
    method: str
    path: str
    status: int
    milliseconds: int
    size: int


@dataclass
class DaySummary:
    day: int
    requests: int = 0
    errors: int = 0
    slow: int = 0
    bytes_sent: int = 0
    statuses: dict = field(default_factory=dict)
    by_client: dict = field(default_factory=dict)


def pseudo_random(seed, modulus):
    """A deterministic number from a seed: the same log on every run and every target."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return int(digest[:12], 16) % modulus


def log_line(day, number):
    """One line of a day's access log, in the combined format's spirit."""
    seed = f"{day}:{number}"
    client = f"10.0.{pseudo_random(seed + 'c', CLIENTS) // 10}.{pseudo_random(seed + 'h', 250)}"
    method = METHODS[pseudo_random(seed + "m", len(METHODS))]
    path = PATHS[pseudo_random(seed + "p", len(PATHS))]
    status = STATUSES[pseudo_random(seed + "s", len(STATUSES))]
    milliseconds = 5 + pseudo_random(seed + "t", 1200)
    size = 200 + pseudo_random(seed + "b", 50_000)
    return f'{client} - - [day {day}] "{method} {path} HTTP/1.1" {status} {size} {milliseconds}'


def day_log(day):
    return [log_line(day, number) for number in range(LINES_PER_DAY)]


def parse_line(day, line):
    """A Request from one line, or None for a line that does not parse."""
    try:
        client, rest = line.split(" - - ", 1)
        _, request_part, tail = rest.split('"')
        method, path, _ = request_part.split(" ")
        status, size, milliseconds = tail.split()
    except ValueError:
        return None
    return Request(day, client, method, path, int(status), int(milliseconds), int(size))


def is_error(request):
    return request.status >= 500


def is_client_error(request):
    return 400 <= request.status < 500


def summarise_day(day):
    """Region kernel: one day's log, parsed and counted."""
    summary = DaySummary(day)
    for line in day_log(day):
        request = parse_line(day, line)
        if request is None:
            continue
        summary.requests += 1
        summary.bytes_sent += request.size
        summary.statuses[request.status] = summary.statuses.get(request.status, 0) + 1
        if is_error(request):
            summary.errors += 1
        if request.milliseconds > SLOW_MS:
            summary.slow += 1
        counts = summary.by_client.setdefault(request.client, [0, 0])
        counts[0] += 1
        counts[1] += request.milliseconds
    return summary


def merge_clients(summaries):
    """Requests and total time per client over every day."""
    merged = {}
    for summary in summaries:
        for client, (count, total) in summary.by_client.items():
            entry = merged.setdefault(client, [0, 0])
            entry[0] += count
            entry[1] += total
    return merged


def busiest(merged, how_many):
    ranked = sorted(merged.items(), key=lambda item: (-item[1][0], item[0]))
    return ranked[:how_many]


def slowest(merged, how_many):
    ranked = sorted(merged.items(), key=lambda item: (-item[1][1] / item[1][0], item[0]))
    return ranked[:how_many]


def status_totals(summaries):
    totals = Counter()
    for summary in summaries:
        totals.update(summary.statuses)
    return dict(sorted(totals.items()))


def error_rate(summaries):
    requests = sum(s.requests for s in summaries)
    errors = sum(s.errors for s in summaries)
    return errors / requests if requests else 0.0


def daily_trend(summaries):
    """Requests per day, and whether the last week grew over the one before."""
    per_day = [s.requests for s in summaries]
    if len(per_day) < 14:
        return per_day, None
    return per_day, statistics.mean(per_day[-7:]) > statistics.mean(per_day[-14:-7])


def format_bytes(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def report_clients(merged):
    lines = ["busiest clients:"]
    for client, (count, total) in busiest(merged, 5):
        lines.append(f"  {client:<14} {count:>6} requests, {total / count:7.1f} ms mean")
    return lines


def report_slow(merged):
    lines = ["slowest clients:"]
    for client, (count, total) in slowest(merged, 5):
        lines.append(f"  {client:<14} {total / count:7.1f} ms mean over {count} requests")
    return lines


def main(argv):
    days = int(argv[0]) if argv else 14
    summaries = data_parallel_region(list(range(days)), summarise_day)
    merged = merge_clients(summaries)
    client_lines, slow_lines = bag_of_task([merged, merged], [report_clients, report_slow])
    print(f"{days} days, {sum(s.requests for s in summaries)} requests")
    print(f"sent {format_bytes(sum(s.bytes_sent for s in summaries))}")
    print(f"server errors: {error_rate(summaries):.2%}")
    print(f"slow requests: {sum(s.slow for s in summaries)}")
    print("statuses:", status_totals(summaries))
    per_day, growing = daily_trend(summaries)
    print("per day:", per_day)
    if growing is not None:
        print("last week", "grew" if growing else "did not grow")
    for line in client_lines + slow_lines:
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
