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

Each round, for every gateway at once (a data_parallel_region), the gateway's kernel reads
its topic from where the report got: a producer_consumer whose producer reads day windows
from the topic and whose consumer finds the day's failing minutes. The main program then
writes the days' lines and, after them, commits each topic's offset to the consumer group
(`--group`): a run stopped and started again goes on from the first day it had not written.
The MTBF of a run started again covers the days that run read.
"""

import argparse
import sys
import time

from mtbf_example.analysis import Bounds
from mtbf_example.errors import MtbfError
from mtbf_example.report import text_report
from mtbf_example.rules import battery_failing, solar_failing
from mtbf_example.stream import Committer, DayResult, Totals, day_windows, stream_gateways
from toreador import data_parallel_region, producer_consumer


def detect_day(window, timezone):
    """Consumer: one day's failing minutes, per kind (battery, solar)."""
    columns = window.columns
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


def read_days(position, broker, group, timezone, complete, most, patience):
    """Outer kernel: the days of one gateway's topic closed since where its report got."""
    gateway, start = position
    windows = day_windows(broker, group, gateway, start, complete, most, patience)
    return producer_consumer(windows, detect_day, timezone)


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="MTBF per gateway, from Kafka topics.")
    parser.add_argument("--broker", required=True, help="Kafka bootstrap server, HOST:PORT")
    parser.add_argument("--gateway", action="extend", nargs="+", help="only these gateways")
    parser.add_argument("--follow", action="store_true", help="keep reading new readings")
    parser.add_argument("--group", default="mtbf-stream", help="consumer group of the report")
    parser.add_argument(
        "--days-per-round", type=int, default=7, help="days a gateway reads between reports"
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
        try:
            active = list(gateways)  # the gateways whose topics may hold more days
            while active:
                positions = [(gateway, offsets[gateway]) for gateway in active]
                found = data_parallel_region(
                    positions,
                    read_days,
                    arguments.broker,
                    arguments.group,
                    arguments.timezone,
                    not arguments.follow,
                    arguments.days_per_round,
                    arguments.broker_timeout,
                )
                for gateway, days in zip(list(active), found, strict=True):
                    for day in days:
                        sys.stdout.write(day.line())
                        totals[gateway].add(day)
                    if days:
                        sys.stdout.flush()  # written before the offset says so
                        offsets[gateway] = days[-1].next_offset
                        committer.commit(gateway, offsets[gateway])
                    if len(days) < arguments.days_per_round and not arguments.follow:
                        active.remove(gateway)  # its topic's end was reached
                if arguments.follow and not any(found):
                    time.sleep(1.0)
        except KeyboardInterrupt:
            pass
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
