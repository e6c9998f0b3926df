"""Reading the gateways' Kafka topics a day at a time, and remembering how far a report got.

A topic is ``mtbf.<gateway>`` with one partition, one message per reading in time order (what
``publish`` writes, and what a live gateway sends). A day is closed when a reading of a later
day arrives, or, when the reader is told the data is complete, at the end of the topic.

The main program reads (``TopicReader``: one consumer for every topic, a day's messages
handed on unparsed); a worker parses a day (``DayWindow.columns``). Offsets are committed to
a consumer group by the main program, after it has written a day's line: the committed
offset of a topic is the first reading of the first day not yet reported, so a run started
again reads from there.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .analysis import GatewayResult
from .errors import MtbfError
from .formula import Mtbf
from .publish import TOPIC_PREFIX, broker_topics, client_settings, topic_for
from .schema import MEASURES

# A reader that hears nothing (no reading, not the partition's end) for this long takes the
# broker for gone, unless told another patience (mtbf_stream.py's --broker-timeout).
STALL_SECONDS = 20.0
# Following the topics: a round gives the days it has after this long, and waits at most
# this long for a first day (the main program writes a round's lines when it ends).
GATHER_SECONDS = 0.2
IDLE_SECONDS = 1.0


def settings(broker: str, group: str) -> dict[str, Any]:
    return {
        **client_settings(broker),
        "group.id": group,
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
    }


def stream_gateways(broker: str, wanted: list[str] | None) -> list[str]:
    """The gateways that have a topic on ``broker`` (all, or those ``wanted``, which must)."""
    topics = broker_topics(broker)
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


@dataclass(frozen=True)
class DayWindow:
    """One gateway's readings of one day as the broker holds them (the messages' values, not
    yet parsed: a worker parses them), and where they are in its topic."""

    gateway: str
    topic: str
    date: str  # YYYY-MM-DD
    values: bytes | list[bytes]  # the messages, newline-joined when none holds a newline
    offsets: list[int]
    next_offset: int  # the offset after the day's last reading

    def messages(self) -> list[bytes]:
        """The day's messages, as they came."""
        return self.values.split(b"\n") if isinstance(self.values, bytes) else self.values

    @property
    def day(self) -> int:
        """The day's first minute, minutes since the epoch."""
        return _DAYS[self.date]

    def columns(self) -> dict[str, npt.NDArray[Any]]:
        """The day's minutes and measures; a malformed message is an error naming its offset.
        The quick way parses the whole day at once; where it finds anything wrong, each
        message is parsed on its own (the rule), which names the first bad one."""
        try:
            columns = _quick_columns(self)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            columns = None
        return columns if columns is not None else _checked_columns(self)


class TopicReader:
    """The main program's reader of every gateway's topic: one consumer for all of them,
    kept from round to round, so that what was fetched beyond a round is not fetched again.

    A day is closed when a reading of a later day arrives, or, in a round told the data is
    complete, at the end of the topic as the broker says it when the reader gets there
    (librdkafka's partition end: a high watermark read beforehand is not a count of readings
    on every broker, tansu's counts batches). Days are told apart by the message key, the
    reading's time (what ``publish`` writes); a message keyed otherwise is placed by the time
    in its value. A gateway holding a round's worth of closed days more than its round
    takes is paused until the next round (librdkafka then goes on from where it was)."""

    def __init__(
        self, broker: str, group: str, offsets: dict[str, int], patience: float = STALL_SECONDS
    ) -> None:
        from confluent_kafka import Consumer, TopicPartition

        self.broker, self.patience = broker, patience
        self.problems: list[str] = []
        self.consumer = Consumer(
            {
                **settings(broker, group),
                "enable.partition.eof": True,
                "fetch.wait.max.ms": 50,
                # a full fetch queue is looked at again after 5 ms, not librdkafka's 1 s:
                # with the default, reading stalled a second at a time
                "fetch.queue.backoff.ms": 5,
                "queued.min.messages": 3000,
                "max.partition.fetch.bytes": 16 << 20,  # a few days of readings a fetch
                "error_cb": lambda error: self.problems.append(str(error)),
            }
        )
        topics = [_Topic(gateway, offset) for gateway, offset in offsets.items()]
        self.topics = {topic.topic: topic for topic in topics}
        self.consumer.assign([TopicPartition(t.topic, 0, t.next) for t in self.topics.values()])
        self.heard = time.monotonic()

    def day_windows(self, gateways: list[str], complete: bool, most: int) -> Iterator[DayWindow]:
        """The next closed days of each of ``gateways``, at most ``most`` each; with
        ``complete``, a topic's last day is closed by the topic's end. A gateway that gives
        fewer than ``most`` has reached its topic's end. Following (not ``complete``), the
        round ends once it has given days for ``GATHER_SECONDS``, or when every topic is at
        its end and a day was given or ``IDLE_SECONDS`` passed: readings that keep coming
        never hold a closed day back. A malformed message, or a broker silent for the
        reader's patience, is an error naming the topic and the offset."""
        from confluent_kafka import TopicPartition

        wanted = [self.topics[topic_for(g)] for g in gateways]
        paused = [t for t in wanted if t.paused]
        if paused:  # librdkafka goes on from the message after the last one given
            self.consumer.resume([TopicPartition(t.topic, 0) for t in paused])
            for topic in paused:
                topic.paused = False
        for topic in wanted:
            topic.given = 0
        began, first_given, polled = time.monotonic(), None, False
        while True:
            for topic in wanted:
                while topic.ready and topic.given < most:
                    topic.given += 1
                    first_given = first_given or time.monotonic()
                    yield topic.ready.popleft()
            if polled and all(t.given >= most or (t.at_end and not t.ready) for t in wanted):
                if complete or first_given or time.monotonic() - began > IDLE_SECONDS:
                    return
            elif not complete and first_given and time.monotonic() - first_given > GATHER_SECONDS:
                return
            batch = self._next_batch()
            polled = True
            if batch:
                self.heard = time.monotonic()
                self._take(batch, complete)
                self._pause([t for t in wanted if len(t.ready) > 2 * most - t.given])
            else:
                waiting = [t for t in wanted if not t.at_end and t.given < most]
                if waiting or not complete:  # following, at the end of every topic too
                    self._check_alive(waiting or wanted)

    def _next_batch(self) -> list[Any]:
        """What the consumer holds, at once; when it holds nothing, what comes within 50 ms,
        as soon as it comes (``consume`` would wait the whole time for a full batch)."""
        batch: list[Any] = self.consumer.consume(10_000, 0)
        if not batch:
            first = self.consumer.poll(0.05)
            if first is not None:
                batch = [first, *self.consumer.consume(10_000, 0)]
        return batch

    def _take(self, batch: list[Any], complete: bool) -> None:
        """The messages of ``batch`` into their topics' open days; the days they close made
        ready. A batch holds runs of one partition's messages: each run is taken whole."""
        from confluent_kafka import KafkaError

        errors = [message.error() for message in batch]
        names = [message.topic() for message in batch]
        cuts = [
            i
            for i in range(1, len(batch))
            if names[i] != names[i - 1] or errors[i] is not None or errors[i - 1] is not None
        ]
        for start, end in zip([0, *cuts], [*cuts, len(batch)], strict=True):
            topic = self.topics.get(names[start])
            if topic is None:
                continue
            error = errors[start]
            if error is not None:  # an event: alone in its run
                if error.code() != KafkaError._PARTITION_EOF:
                    raise MtbfError(
                        f"broker {self.broker}: topic {topic.topic} at offset {topic.next}: {error}"
                    )
                topic.at_end = True
                if complete and topic.values:
                    topic.close(topic.next)
            else:
                topic.take(batch[start:end])

    def _pause(self, topics: list[_Topic]) -> None:
        from confluent_kafka import TopicPartition

        topics = [t for t in topics if not t.paused]
        if topics:
            self.consumer.pause([TopicPartition(t.topic, 0) for t in topics])
            for topic in topics:
                topic.paused = True

    def _check_alive(self, waiting: list[_Topic]) -> None:
        """Nothing came: past the reader's patience without a word from the broker, the
        run ends naming where it waited. At the end of every topic (following them) silence
        is normal: the broker is asked for a topic's end, which it answers when it is there."""
        from confluent_kafka import KafkaException, TopicPartition

        if all(t.at_end for t in waiting):
            if time.monotonic() - self.heard < IDLE_SECONDS:
                return
            try:
                self.consumer.get_watermark_offsets(
                    TopicPartition(waiting[0].topic, 0), timeout=1.0, cached=False
                )
                self.heard = time.monotonic()
                return
            except KafkaException as error:
                self.problems.append(str(error))
        if time.monotonic() - self.heard > self.patience:
            said = self.problems[-1] if self.problems else "it does not answer"
            first = waiting[0]
            others = f" (and {len(waiting) - 1} other topics)" if len(waiting) > 1 else ""
            raise MtbfError(
                f"broker {self.broker}: topic {first.topic}: nothing at offset {first.next}"
                f"{others} for {self.patience:g} s ({said}): the days from there are not "
                "reported"
            )

    def close(self) -> None:
        self.consumer.close()


class _Topic:
    """A gateway's topic as the reader holds it: the open day, the closed days not yet
    given, and the next offset to read."""

    def __init__(self, gateway: str, start: int) -> None:
        self.gateway, self.topic, self.next = gateway, topic_for(gateway), start
        self.date: bytes | None = None
        self.values: list[bytes] = []
        self.offsets: list[int] = []
        self.ready: deque[DayWindow] = deque()
        self.at_end = self.paused = False
        self.given = 0

    def take(self, messages: list[Any]) -> None:
        """A run of this topic's messages, in offset order. Days are told apart by the
        message key, the reading's time: the end of a day is found by bisecting the run's
        keys, so the main program does not look at each message. Whether each reading is of
        its window's day, and in time order, the worker checks when it parses the day. A
        message without such a key is placed by the time in its value."""
        offsets = [message.offset() for message in messages]
        if offsets[0] < self.next:  # given again after a resume: already held
            messages = messages[bisect.bisect_left(offsets, self.next) :]
            offsets = offsets[len(offsets) - len(messages) :]
            if not messages:
                return
        keys = [message.key() for message in messages]
        values = [message.value() for message in messages]
        bisectable = None not in keys
        at = 0
        while at < len(messages):
            date = _key_date(keys[at])
            if date is None or not bisectable:
                found = _reading(self.topic, offsets[at], values[at])[2][:10]
                date, end = found.encode(), at + 1
            else:
                end = bisect.bisect_left(keys, date + b"U", at)  # after the day's last key
            if date != self.date:
                if self.date is not None and date < self.date:
                    raise MtbfError(
                        f"topic {self.topic} offset {offsets[at]}: a reading out of time order"
                    )
                if self.values:
                    self.close(offsets[at])
                self.date = date
            self.values += values[at:end]
            self.offsets += offsets[at:end]
            at = end
        self.next = offsets[-1] + 1
        self.at_end = False

    def close(self, next_offset: int) -> None:
        """The open day is complete: ready to be given."""
        assert self.date is not None
        self.ready.append(
            DayWindow(
                self.gateway,
                self.topic,
                self.date.decode(),
                packed(self.values),
                self.offsets,
                next_offset,
            )
        )
        self.values, self.offsets = [], []


def packed(values: list[bytes]) -> bytes | list[bytes]:
    """A day's messages as one newline-joined string when none holds a newline (JSON
    messages seldom do): it travels to a worker as one copy, where a list of 1,440
    strings cost the main program, the reader's bottleneck, a fifth of its time a day."""
    joined = b"\n".join(values)
    return joined if joined.count(b"\n") == len(values) - 1 else values


class _Days(dict[str, int]):
    """The first minute of each day by its date text, parsed once a day, not per reading."""

    def __missing__(self, date: str) -> int:
        minute = int(np.datetime64(date, "m").astype(np.int64))
        self[date] = minute
        return minute


_DAYS = _Days()
# each minute of a day by its HH:MM text
_CLOCK = {f"{h:02d}:{m:02d}": h * 60 + m for h in range(24) for m in range(60)}


def _key_date(key: bytes | None) -> bytes | None:
    """The date of a key that is a reading's time (YYYY-MM-DDTHH:MM:SSZ), else None."""
    if key is None or len(key) != 20 or key[10:11] != b"T":
        return None
    date = key[:10]
    try:
        _DAYS[date.decode()]
    except (ValueError, UnicodeDecodeError):
        return None
    return date


def _reading(topic: str, offset: int, value: bytes | None) -> tuple[int, list[float], str]:
    """A message's minute, measures and time text; anything else is an error naming where
    it is. The time is publish's form, YYYY-MM-DDTHH:MM:00Z."""
    import orjson

    try:
        body = orjson.loads(value or b"")
        time_ = body["time"]
        if len(time_) != 20 or time_[10] != "T" or time_[16:] != ":00Z":
            raise ValueError(f"time {time_!r} is not YYYY-MM-DDTHH:MM:00Z")
        if time_[11:16] not in _CLOCK:
            raise ValueError(f"time {time_!r} is not YYYY-MM-DDTHH:MM:00Z")
        minute = _DAYS[time_[:10]] + _CLOCK[time_[11:16]]
        given = [body[m] for m in MEASURES]
        if None in given:
            raise ValueError(f"no value for {MEASURES[given.index(None)]}")
        values = [float(v) for v in given]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise MtbfError(f"topic {topic} offset {offset}: malformed message: {error}") from None
    if any(v != v for v in values):
        raise MtbfError(f"topic {topic} offset {offset}: malformed message: a missing value")
    return minute, values, time_


def _checked_columns(window: DayWindow) -> dict[str, npt.NDArray[Any]]:
    """The day's columns, each message parsed and checked on its own: the first that is
    malformed, of another day than its key, or earlier than the one before is an error."""
    rows, last = [], window.day
    for offset, value in zip(window.offsets, window.messages(), strict=True):
        minute, values, time_ = _reading(window.topic, offset, value)
        if time_[:10] != window.date:
            raise MtbfError(
                f"topic {window.topic} offset {offset}: a reading of {time_[:10]} among "
                f"those of {window.date} (its key says another day)"
            )
        if minute < last:
            raise MtbfError(f"topic {window.topic} offset {offset}: a reading out of time order")
        last = minute
        rows.append([minute, *values])
    table = np.asarray(rows, dtype=np.float64)
    columns: dict[str, npt.NDArray[Any]] = {"minute": table[:, 0].astype(np.int64)}
    for index, measure in enumerate(MEASURES, start=1):
        columns[measure] = table[:, index]
    return columns


def _quick_columns(window: DayWindow) -> dict[str, npt.NDArray[Any]] | None:
    """The day's columns parsed a column at a time, or None where anything is not as the
    checked way accepts it (which then finds what): the same columns when all is well."""
    import orjson

    loads = orjson.loads
    bodies = [loads(value) for value in window.messages()]
    prefix = window.date + "T"
    clock = [
        _CLOCK[t[11:16]] if len(t) == 20 and t[:11] == prefix and t[16:] == ":00Z" else -1
        for t in [body["time"] for body in bodies]
    ]
    minutes = np.asarray(clock, dtype=np.int64)
    if len(minutes) == 0 or minutes.min() < 0 or np.any(np.diff(minutes) < 0):
        return None
    columns: dict[str, npt.NDArray[Any]] = {"minute": minutes + window.day}
    for measure in MEASURES:
        column = np.asarray([body[measure] for body in bodies], dtype=np.float64)
        if column.ndim != 1 or np.isnan(column).any():
            return None
        columns[measure] = column
    return columns


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
