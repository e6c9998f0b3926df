"""Record parsers registered by a class decorator at import, and a lookup table each process
builds lazily on first use, the two ways scripts set up shared state for their workers."""

from toreador import data_parallel_region

PARSERS = {}
_UNITS = None


def register(kind):
    def add(cls):
        PARSERS[kind] = cls
        return cls

    return add


@register("csv")
class CsvParser:
    def parse(self, text):
        return text.split(",")


@register("kv")
class KeyValueParser:
    def parse(self, text):
        return [part.split("=")[1] for part in text.split(";")]


def units():
    global _UNITS
    if _UNITS is None:
        _UNITS = {"W": 1, "kW": 1000, "MW": 1_000_000}
    return _UNITS


def watts(record):
    kind, text = record
    value, unit = PARSERS[kind]().parse(text)
    return float(value) * units()[unit]


if __name__ == "__main__":
    print("parsers:", sorted(PARSERS))
    records = [("csv", "3.5,kW"), ("kv", "value=120;unit=W"), ("csv", "0.2,MW")]
    print(data_parallel_region(records, watts))
