"""MTBF of solar + battery homes, annotated for two-level parallelism with toreador.

Run as plain Python, this is the sequential reference:

    python mtbf_example/mtbf.py DATA [--start ISO] [--end ISO] [--gateway ID ...] [--json OUT]
                                     [--verbose] [--api URL] [--timezone ZONE]

It takes the same arguments and prints the same report as `python -m mtbf_example analyse`.
Compiled (`toreador-compile mtbf_example/mtbf.py -o OUT`), `python OUT/Main.py DATA` prints
the same report, in parallel:

- outer level: a data_parallel_region over the gateways;
- inner level, per gateway: a producer_consumer over day-long chunks of readings detects the
  failing minutes (vectorised per chunk, not a Python call per minute), and a bag_of_task runs
  the two reductions (battery, solar) side by side.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from mtbf_example.analysis import Failure, GatewayResult, select, sort_readings
from mtbf_example.errors import MtbfError
from mtbf_example.formula import mtbf
from mtbf_example.pipeline import load
from mtbf_example.report import text_report, write_json
from mtbf_example.rules import battery_failing, solar_failing
from mtbf_example.schema import GATEWAY, MEASURES
from toreador import bag_of_task, data_parallel_region, producer_consumer

CHUNK_ROWS = 1440  # a day of minute readings per chunk
COLUMNS = ("minute", *MEASURES)


def gateway_columns(readings):
    """One gateway's readings as plain arrays: cheap to send to a worker and to slice."""
    return {name: readings[name].to_numpy() for name in COLUMNS}


def day_chunks(columns):
    """Producer: one gateway's readings, in time order, a day-sized chunk at a time."""
    for first in range(0, len(columns["minute"]), CHUNK_ROWS):
        yield {name: values[first : first + CHUNK_ROWS] for name, values in columns.items()}


def detect_failures(chunk, timezone):
    """Consumer: the failing readings of one chunk, per kind (battery, solar)."""
    battery = battery_failing(chunk["pdc"], chunk["pcons"], chunk["soc"], chunk["pbatt"])
    solar = solar_failing(chunk["minute"], chunk["pdc"], timezone)
    return (
        {name: values[battery] for name, values in chunk.items()},
        {name: values[solar] for name, values in chunk.items()},
    )


def joined(parts):
    """The failing readings of every chunk, as one set of arrays."""
    return {name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}


def summarise(failing):
    """One reduction: the MTBF of one kind of failure, with the failures for --verbose."""
    failures = tuple(
        Failure(int(minute), float(pcons), float(pbatt), float(pdc), float(soc))
        for minute, pcons, pbatt, pdc, soc in zip(*(failing[name] for name in COLUMNS), strict=True)
    )
    return mtbf(failing["minute"].astype(np.int64)), failures


def analyse_gateway(work, timezone):
    """Outer kernel: one gateway's MTBF for both kinds of failure."""
    gateway, columns = work
    detected = producer_consumer(day_chunks(columns), detect_failures, timezone)
    battery_rows = joined([battery for battery, _ in detected])
    solar_rows = joined([solar for _, solar in detected])
    (battery, battery_failures), (solar, solar_failures) = bag_of_task(
        [battery_rows, solar_rows], [summarise, summarise]
    )
    return GatewayResult(gateway, battery, solar, battery_failures, solar_failures)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="MTBF per gateway of solar + battery homes.")
    parser.add_argument("data", nargs="?", type=Path, help="CSV/Parquet file or folder")
    parser.add_argument("--start", help="period start, ISO-8601 (default: first minute)")
    parser.add_argument("--end", help="period end, ISO-8601 (default: last minute)")
    parser.add_argument("--gateway", action="extend", nargs="+", help="only these gateways")
    parser.add_argument("--json", type=Path, help="write the JSON report here")
    parser.add_argument("--verbose", action="store_true", help="log failures and arithmetic")
    parser.add_argument("--api", help="read through the REST data service at this URL")
    parser.add_argument("--timezone", default="UTC", help="zone whose noon the solar rule uses")
    return parser.parse_args(argv)


def main(argv):
    arguments = parse_arguments(argv)
    try:
        readings = load(
            arguments.data, arguments.api, arguments.start, arguments.end, arguments.gateway
        )
        from mtbf_example.analysis import parse_moment

        first = parse_moment(arguments.start, "--start") if arguments.start else None
        last = parse_moment(arguments.end, "--end") if arguments.end else None
        frame, period = select(readings, first, last, arguments.gateway)
        frame = sort_readings(frame, readings)
    except (MtbfError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    work = [
        (str(gateway), gateway_columns(part))
        for gateway, part in frame.groupby(GATEWAY, observed=True)
    ]
    results = data_parallel_region(work, analyse_gateway, arguments.timezone)
    sys.stdout.write(
        text_report(sorted(results, key=lambda r: r.gateway), period, arguments.verbose)
    )
    if arguments.json is not None:
        write_json(results, arguments.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
