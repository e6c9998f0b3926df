"""MTBF of solar + battery homes, as a plain sequential program: no primitives.

The same analysis as ``mtbf.py`` written the way it would be before toreador: a loop over the
gateways, and in each gateway's function a loop over its day-sized chunks. It is what
``toreador-compile suggest`` starts from: it proposes the outer region over the gateways and
the inner producer-consumer over the chunks (tests/test_suggest.py), which is the annotation
``mtbf.py`` carries by hand.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from mtbf_example.analysis import Failure, GatewayResult
from mtbf_example.errors import MtbfError
from mtbf_example.formula import mtbf
from mtbf_example.report import text_report, write_json
from mtbf_example.rules import battery_failing, solar_failing
from mtbf_example.schema import MEASURES
from mtbf_example.sources import gateway_sources

CHUNK_ROWS = 1440  # a day of minute readings per chunk
COLUMNS = ("minute", *MEASURES)


def day_chunks(columns):
    """One gateway's readings, in time order, a day-sized chunk at a time."""
    for first in range(0, len(columns["minute"]), CHUNK_ROWS):
        yield {name: values[first : first + CHUNK_ROWS] for name, values in columns.items()}


def detect_failures(chunk, timezone):
    """The failing readings of one chunk, per kind (battery, solar)."""
    battery = battery_failing(chunk["pdc"], chunk["pcons"], chunk["soc"], chunk["pbatt"])
    solar = solar_failing(chunk["minute"], chunk["pdc"], timezone)
    return (
        {name: values[battery] for name, values in chunk.items()},
        {name: values[solar] for name, values in chunk.items()},
    )


def joined(parts):
    """The failing readings of every chunk, as one set of arrays."""
    return {name: np.concatenate([part[name] for part in parts]) for name in COLUMNS}


def summarise(work):
    """One reduction: the MTBF of one kind of failure, with its failures when asked
    (--verbose; a year of a home's failures is thousands of objects, kept until the report)."""
    failing, verbose = work
    failures = ()
    if verbose:
        failures = tuple(
            Failure(int(minute), float(pcons), float(pbatt), float(pdc), float(soc))
            for minute, pcons, pbatt, pdc, soc in zip(
                *(failing[name] for name in COLUMNS), strict=True
            )
        )
    return mtbf(failing["minute"].astype(np.int64)), failures


def calculate_mtbf(source, bounds, timezone, verbose):
    """One gateway's MTBF for both kinds of failure, from the readings it
    fetches itself (None: no readings in the period)."""
    columns = source.fetch(bounds)
    if len(columns["minute"]) == 0:
        return None
    detected = []
    for chunk in day_chunks(columns):
        detected.append(detect_failures(chunk, timezone))
    battery_rows = joined([battery for battery, _ in detected])
    solar_rows = joined([solar for _, solar in detected])
    battery, battery_failures = summarise((battery_rows, verbose))
    solar, solar_failures = summarise((solar_rows, verbose))
    span = (int(columns["minute"][0]), int(columns["minute"][-1]))
    return GatewayResult(source.gateway, battery, solar, battery_failures, solar_failures, span)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="MTBF per gateway of solar + battery homes.")
    parser.add_argument(
        "data",
        nargs="?",
        type=Path,
        help="data set partitioned by gateway, CSV/Parquet file or folder",
    )
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
        sources, bounds = gateway_sources(
            arguments.data, arguments.api, arguments.start, arguments.end, arguments.gateway
        )
        found = []
        for source in sources:
            found.append(calculate_mtbf(source, bounds, arguments.timezone, arguments.verbose))
        results = sorted((r for r in found if r is not None), key=lambda r: r.gateway)
        period = bounds.period([r.span for r in results])
    except (MtbfError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text_report(results, period, arguments.verbose))
    if arguments.json is not None:
        write_json(results, arguments.json)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
