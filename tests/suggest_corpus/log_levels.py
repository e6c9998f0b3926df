"""Parse log lines from a generator and count levels, as an ops script does."""

import re

PATTERN = re.compile(r"(?P<level>INFO|WARN|ERROR) (?P<message>.*)")


def log_lines(count):
    levels = ["INFO", "WARN", "ERROR", "INFO"]
    for number in range(count):
        yield f"{levels[number % 4]} request {number} took {number % 17} ms"


def parse(line):
    found = PATTERN.match(line)
    return (found["level"], len(found["message"])) if found else ("?", 0)


parsed = []
for line in log_lines(40):  # expect: parallel
    parsed.append(parse(line))
seen = {}
for level, size in parsed:  # expect: sequential
    seen[level] = seen.get(level, 0) + size
print(sorted(seen.items()))
first_error = None
for level, size in parsed:  # expect: sequential
    if level == "ERROR":
        first_error = size
        break
print(first_error)
