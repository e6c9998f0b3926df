"""Streaming MTBF of solar + battery homes: one Kafka topic per gateway, annotated for toreador.

Run as plain Python, this is the sequential reference:

    python mtbf_example/mtbf_stream.py --broker HOST:PORT [--gateway ID ...] [--follow]
                                       [--group NAME] [--days-per-round N] [--timezone ZONE]
                                       [--broker-timeout SECONDS]

It reads the topics `python -m mtbf_example publish` writes (`mtbf.<gateway>`, a message per
reading) and prints a line per gateway and day as the days close:

    UTX0157b2 2017-06-01: 1440 readings, 3 battery failures, 0 solar failures

then, at the end of the topics, the period's MTBF per gateway exactly as `analyse` prints it
for the data that was published. `--follow` keeps reading as readings arrive (Ctrl-C ends
it with the report of what was read).

Each round is a producer_consumer: its producer reads the next days of every gateway's
topic (a day window at a time, the messages as they came), its consumer parses a day and
finds its failing minutes. The main program then writes the round's lines, a gateway after
another, and, after them, commits each topic's offset to the consumer group (`--group`): a
run stopped and started again goes on from the first day it had not written. The MTBF of a
run started again covers the days that run read.
"""

import argparse
import sys

from mtbf_example.analysis import Bounds
from mtbf_example.errors import MtbfError
from mtbf_example.report import text_report
from mtbf_example.rules import battery_failing, solar_failing
from mtbf_example.stream import Committer, DayResult, TopicReader, Totals, stream_gateways
from toreador import producer_consumer


def detect_day(window, timezone):
    """Consumer: one day's readings parsed, and its failing minutes per kind (battery, solar)."""
    columns = window.columns()
    minutes = columns["minute"]
    battery = battery_failing(columns["pdc"], columns["pcons"], columns["soc"], columns["pbatt"])
    solar = solar_failing(minutes, columns["pdc"], timezone)
    span = (int(minutes[0]), int(minutes[-1]))
    return DayResult(
        window.gateway,
        window.day,
        len(minutes),
        minutes[battery],
        minutes[solar],
        span,
        window.next_offset,
    )


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="MTBF per gateway, from Kafka topics.")
    parser.add_argument("--broker", required=True, help="Kafka bootstrap server, HOST:PORT")
    parser.add_argument("--gateway", action="extend", nargs="+", help="only these gateways")
    parser.add_argument("--follow", action="store_true", help="keep reading new readings")
    parser.add_argument("--group", default="mtbf-stream", help="consumer group of the report")
    parser.add_argument(
        "--days-per-round", type=int, default=30, help="days a gateway reads between reports"
    )
    parser.add_argument("--timezone", default="UTC", help="zone whose noon the solar rule uses")
    parser.add_argument(
        "--broker-timeout",
        type=float,
        default=20.0,
        help="seconds of silence after which the broker is taken for gone",
    )
    return parser.parse_args(argv)


def main(argv):
    arguments = parse_arguments(argv)
    try:
        gateways = stream_gateways(arguments.broker, arguments.gateway)
        committer = Committer(arguments.broker, arguments.group)
        offsets = committer.committed(gateways)
        totals = {gateway: Totals(gateway) for gateway in gateways}
        reader = TopicReader(arguments.broker, arguments.group, offsets, arguments.broker_timeout)
        try:
            active = list(gateways)  # the gateways whose topics may hold more days
            while active:
                windows = reader.day_windows(active, not arguments.follow, arguments.days_per_round)
                found = producer_consumer(windows, detect_day, arguments.timezone)
                by_gateway = {gateway: [] for gateway in active}
                for day in found:
                    by_gateway[day.gateway].append(day)
                for gateway, days in by_gateway.items():
                    for day in days:
                        sys.stdout.write(day.line())
                        totals[gateway].add(day)
                    if days:
                        sys.stdout.flush()  # written before the offset says so
                        committer.commit(gateway, days[-1].next_offset)
                    if len(days) < arguments.days_per_round and not arguments.follow:
                        active.remove(gateway)  # its topic's end was reached
        except KeyboardInterrupt:
            pass
        reader.close()
        committer.close()
        results = [t.result() for t in totals.values() if t.span is not None]
        if not results:
            print("no new readings since the group's last report", file=sys.stderr)
            return 0
        period = Bounds().period([r.span for r in results])
    except MtbfError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text_report(results, period))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
