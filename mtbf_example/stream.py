"""Reading the gateways' Kafka topics a day at a time, and remembering how far a report got.

A topic is ``mtbf.<gateway>`` with one partition, one message per reading in time order (what
``publish`` writes, and what a live gateway sends). A day is closed when a reading of a later
day arrives, or, when the reader is told the data is complete, at the end of the topic.

Offsets are committed to a consumer group by the main program, after it has written a day's
line: the committed offset of a topic is the first reading of the first day not yet reported,
so a run started again reads from there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .analysis import GatewayResult
from .errors import MtbfError
from .formula import Mtbf
from .publish import QUIET, TOPIC_PREFIX, topic_for
from .rules import MINUTES_PER_DAY
from .schema import MEASURES

# A reader that hears nothing (no reading, not the partition's end) for this long takes the
# broker for gone, unless told another patience (mtbf_stream.py's --broker-timeout).
STALL_SECONDS = 20.0


@dataclass(frozen=True)
class DayWindow:
    """One gateway's readings of one day, and where they are in its topic."""

    gateway: str
    day: int  # the day's first minute, minutes since the epoch
    columns: dict[str, npt.NDArray[Any]]  # "minute" and the measures
    next_offset: int  # the offset after the day's last reading


def settings(broker: str, group: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": broker,
        "group.id": group,
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "socket.timeout.ms": 10_000,
        "logger": QUIET,
    }


def stream_gateways(broker: str, wanted: list[str] | None) -> list[str]:
    """The gateways that have a topic on ``broker`` (all, or those ``wanted``, which must)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({k: v for k, v in settings(broker, "").items() if k != "group.id"})
    try:
        topics = admin.list_topics(timeout=10).topics
    except KafkaException as error:
        raise MtbfError(f"cannot reach the Kafka broker at {broker}: {error}") from None
    found = sorted(t[len(TOPIC_PREFIX) :] for t in topics if t.startswith(TOPIC_PREFIX))
    if wanted:
        unknown = [g for g in wanted if topic_for(g) not in topics]
        if unknown:
            raise MtbfError(
                f"no topic for gateway(s) {', '.join(unknown)} on {broker} "
                f"(topics: {', '.join(topic_for(g) for g in found[:10]) or 'none'})"
            )
        found = sorted(set(wanted))
    if not found:
        raise MtbfError(f"no gateway topics ({TOPIC_PREFIX}<gateway>) on {broker}")
    for gateway in found:
        partitions = len(topics[topic_for(gateway)].partitions)
        if partitions != 1:  # the reader reads one partition: the others would be lost
            raise MtbfError(
                f"topic {topic_for(gateway)} has {partitions} partitions: a gateway's readings "
                "keep their order in one (publish makes it so)"
            )
    return found


class Committer:
    """The main program's handle on the consumer group: where each topic's report got."""

    def __init__(self, broker: str, group: str) -> None:
        from confluent_kafka import Consumer

        self.broker = broker
        self.consumer = Consumer(settings(broker, group))

    def committed(self, gateways: list[str]) -> dict[str, int]:
        """Each gateway's first offset not yet reported (0 where nothing was committed)."""
        from confluent_kafka import KafkaException, TopicPartition

        wanted = [TopicPartition(topic_for(g), 0) for g in gateways]
        try:
            found = self.consumer.committed(wanted, timeout=10)
        except KafkaException as error:
            raise MtbfError(
                f"broker {self.broker}: cannot read the committed offsets: {error}"
            ) from None
        return {g: max(p.offset, 0) for g, p in zip(gateways, found, strict=True)}

    def commit(self, gateway: str, offset: int) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            self.consumer.commit(
                offsets=[TopicPartition(topic_for(gateway), 0, offset)], asynchronous=False
            )
        except KafkaException as error:
            raise MtbfError(
                f"broker {self.broker}: cannot commit topic {topic_for(gateway)} "
                f"at offset {offset}: {error}"
            ) from None

    def close(self) -> None:
        self.consumer.close()


def day_windows(
    broker: str,
    group: str,
    gateway: str,
    start: int,
    complete: bool,
    most: int,
    patience: float = STALL_SECONDS,
) -> Iterator[DayWindow]:
    """The closed days of ``gateway``'s topic from offset ``start``, at most ``most`` of them,
    up to the topic's end as the broker says it when the reader gets there (librdkafka's
    partition end: a high watermark read beforehand is not a count of readings on every
    broker, tansu's counts batches); with ``complete``, the last day is closed by that end.
    A malformed message, or a broker silent for ``patience`` seconds, is an error naming the
    topic and the offset."""
    import orjson
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    topic = topic_for(gateway)
    problems: list[str] = []
    consumer = Consumer(
        {
            **settings(broker, group),
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 50,
            "max.partition.fetch.bytes": 16 << 20,  # a few days of readings a fetch
            "error_cb": lambda error: problems.append(str(error)),
        }
    )
    days = _Days()
    try:
        consumer.assign([TopicPartition(topic, 0, start)])
        rows: list[list[float]] = []
        day: int | None = None
        offset, given, heard = start, 0, time.monotonic()
        at_end = False
        while given < most and not at_end:
            batch = consumer.consume(10_000, 0.05)  # it waits that long for a full batch
            if not batch:
                if time.monotonic() - heard > patience:
                    said = problems[-1] if problems else "it does not answer"
                    raise MtbfError(
                        f"broker {broker}: topic {topic}: nothing at offset {offset} for "
                        f"{patience:g} s ({said}): the days from there are not reported"
                    )
                continue
            heard = time.monotonic()
            for message in batch:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        at_end = True
                        break
                    raise MtbfError(f"broker {broker}: topic {topic} at offset {offset}: {error}")
                at: int = message.offset() or 0  # None only on an error message
                minute, values = _reading(orjson, days, topic, at, message.value())
                today = minute - minute % MINUTES_PER_DAY
                if day is not None and today != day:
                    if today < day:
                        raise MtbfError(f"topic {topic} offset {at}: a reading out of time order")
                    yield _window(gateway, day, rows, at)
                    given += 1
                    rows = []
                    if given >= most:
                        break
                day = today
                rows.append([minute, *values])
                offset = at + 1
        if rows and day is not None and complete and at_end:
            yield _window(gateway, day, rows, offset)
    finally:
        consumer.close()


class _Days(dict[str, int]):
    """The first minute of each day by its date text, parsed once a day, not per reading."""

    def __missing__(self, date: str) -> int:
        minute = int(np.datetime64(date, "m").astype(np.int64))
        self[date] = minute
        return minute


def _reading(
    orjson: Any, days: _Days, topic: str, offset: int, value: bytes | None
) -> tuple[int, list[float]]:
    """A message's minute and measures; anything else is an error naming where it is. The
    time is publish's form, YYYY-MM-DDTHH:MM:00Z."""
    try:
        body = orjson.loads(value or b"")
        time_ = body["time"]
        if len(time_) != 20 or time_[10] != "T" or time_[16:] != ":00Z":
            raise ValueError(f"time {time_!r} is not YYYY-MM-DDTHH:MM:00Z")
        hour, minute = int(time_[11:13]), int(time_[14:16])
        if not (0 <= hour < 24 and 0 <= minute < 60) or not time_[11:16].replace(":", "").isdigit():
            raise ValueError(f"time {time_!r} is not YYYY-MM-DDTHH:MM:00Z")
        minute += days[time_[:10]] + hour * 60
        values = [float(body[m]) for m in MEASURES]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise MtbfError(f"topic {topic} offset {offset}: malformed message: {error}") from None
    if any(v != v for v in values):
        raise MtbfError(f"topic {topic} offset {offset}: malformed message: a missing value")
    return minute, values


def _window(gateway: str, day: int, rows: list[list[float]], next_offset: int) -> DayWindow:
    table = np.asarray(rows, dtype=np.float64)
    columns: dict[str, npt.NDArray[Any]] = {"minute": table[:, 0].astype(np.int64)}
    for index, measure in enumerate(MEASURES, start=1):
        columns[measure] = table[:, index]
    return DayWindow(gateway, day, columns, next_offset)


@dataclass(frozen=True)
class DayResult:
    """One gateway's day, analysed: its failing minutes per kind, and where it ends."""

    gateway: str
    day: int
    readings: int
    battery: npt.NDArray[np.int64]  # failing minutes
    solar: npt.NDArray[np.int64]
    span: tuple[int, int]  # first and last minute read
    next_offset: int

    def line(self) -> str:
        date = str(np.datetime64(self.day * 60, "s"))[:10]
        return (
            f"{self.gateway} {date}: {self.readings} readings, {len(self.battery)} battery "
            f"failures, {len(self.solar)} solar failures\n"
        )


class Totals:
    """What the report needs of a gateway's days so far: per kind of failure the first and
    last failing minute and their count (the MTBF formula needs no more), and the span read."""

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.kinds = {"battery": [0, 0, 0], "solar": [0, 0, 0]}  # first, last, count
        self.span: tuple[int, int] | None = None

    def add(self, day: DayResult) -> None:
        for kind, failing in (("battery", day.battery), ("solar", day.solar)):
            if len(failing):
                first, _, count = self.kinds[kind]
                self.kinds[kind] = [
                    int(failing[0]) if count == 0 else first,
                    int(failing[-1]),
                    count + len(failing),
                ]
        first = day.span[0] if self.span is None else self.span[0]
        self.span = (first, day.span[1])

    def result(self) -> GatewayResult:
        found = []
        for first, last, count in self.kinds.values():
            between = last - first - (count - 1) if count else 0
            found.append(Mtbf(between, count, between / count if count else 0.0))
        battery, solar = found
        return GatewayResult(self.gateway, battery, solar, span=self.span)
