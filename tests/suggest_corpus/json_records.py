"""Decode JSON records and validate each; a tally kept across them."""

import json


def record(i):
    return {"id": i, "score": (i * 29) % 100, "tags": ["a", "b"][: i % 3]}


RAW = [json.dumps(record(i)) for i in range(40)]  # expect: parallel


def validate(text, minimum):
    record = json.loads(text)
    return record["id"], record["score"] >= minimum, len(record["tags"])


checked = []
for text in RAW:  # expect: parallel
    checked.append(validate(text, 50))
passed = 0
for _, ok, _ in checked:  # expect: sequential
    if ok:
        passed += 1
print(passed, checked[:2])
