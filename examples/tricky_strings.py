"""Items that are tuples, dicts and strings with tabs, newlines, NUL and non-ASCII."""

from toreador import data_parallel_region, producer_consumer

ITEMS = [
    "plain",
    "tab\there",
    "new\nline",
    "nul\x00byte",
    "carriage\rreturn",
    "ünïcödé ✓ 日本語",
    "",
    "\\backslash\\",
    ("tuple", 1, 2.5, None),
    {"key": "value\twith tab", "n": [1, 2, {"deep": "\n"}]},
    b"bytes\x00\xff",
]


def describe(item):
    return (type(item).__name__, repr(item), len(repr(item)))


def reverse(item):
    return item[::-1] if isinstance(item, str | bytes | tuple) else sorted(item)


for row in data_parallel_region(ITEMS * 7, describe):
    print(row)
print(producer_consumer(iter(ITEMS), reverse))
