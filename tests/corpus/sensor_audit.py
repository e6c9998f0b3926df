"""Audits a batch of sensor readings and logs what it finds, as a nightly job would: the
log lines go to stdout with the prints, in the order the sequential run writes them."""

import logging
import sys

from toreador import data_parallel_region

logging.basicConfig(
    stream=sys.stdout, level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s"
)
log = logging.getLogger(__name__)
audit = logging.getLogger("audit")
audit.setLevel(logging.WARNING)  # its INFO records are dropped where the kernel runs
details = logging.getLogger("audit.details")


class Reading:
    def __init__(self, sensor, value):
        self.sensor, self.value = sensor, value

    def __repr__(self):
        return f"Reading({self.sensor!r}, {self.value})"


def inspect(reading):
    log.info("checking %s", reading.sensor)
    audit.info("not shown: %s", reading)
    if reading.value < 0:
        log.warning("%s is negative: %d", reading.sensor, reading.value)
        details.warning("raw reading %r", reading)
    try:
        inverse = 1 / reading.value
    except ZeroDivisionError:
        log.error("%s cannot be inverted", reading.sensor)
        inverse = None
    print(f"{reading.sensor} checked")
    log.debug("done with %s", reading.sensor)  # DEBUG: nothing else may write at this level
    return inverse


if __name__ == "__main__":
    readings = [Reading(name, value) for name, value in [("a", 4), ("b", -2), ("c", 0), ("d", 5)]]
    log.info("starting %d readings", len(readings))
    inverses = data_parallel_region(readings, inspect)
    log.info("inverses %s", inverses)
