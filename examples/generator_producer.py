"""A generator as producer, printing as it produces; the consumer prints too."""

import sys

from toreador import producer_consumer


def readings(count):
    total = 0
    for minute in range(count):
        if minute % 50 == 0:
            print(f"producing minute {minute}")
        total += minute
        yield {"minute": minute, "power": (minute * 37) % 101 - 50}
    print(f"producer done, {count} minutes, checksum {total}")


def classify(reading, threshold):
    if reading["minute"] % 75 == 0:
        print(f"consumer saw minute {reading['minute']}")
    return "charging" if reading["power"] > threshold else "discharging"


labels = producer_consumer(readings(int(sys.argv[1]) if len(sys.argv) > 1 else 400), classify, 0)
print(labels.count("charging"), labels.count("discharging"), labels[:5])
