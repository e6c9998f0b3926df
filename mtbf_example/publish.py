"""Replay readings into Kafka as live gateways send them: one topic per gateway, one message
per reading, in time order.

Topic ``mtbf.<gateway>`` (one partition: a gateway's readings keep their order); each message
is keyed by the reading's time (ISO-8601, UTC) and holds the four measures as JSON:

    key   2017-06-01T12:00:00Z
    value {"time":"2017-06-01T12:00:00Z","pcons":812.0,"pbatt":-40.5,"pdc":1620.3,"soc":88.0}

As fast as possible by default, a gateway after another; with ``speed``, all the gateways
interleaved minute by minute at ``speed`` times real time (a day in 14.4 minutes at 100),
which holds the chosen gateways' readings in memory (choose them, or the period, for long
replays).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .analysis import Bounds
from .errors import MtbfError
from .schema import MEASURES
from .service import iso_minutes
from .sources import gateway_sources

TOPIC_PREFIX = "mtbf."
QUIET = logging.getLogger("mtbf_example.kafka")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
LEGAL_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's rule for topic names
Columns = dict[str, Any]


def topic_for(gateway: str) -> str:
    topic = f"{TOPIC_PREFIX}{gateway}"
    if not LEGAL_TOPIC.match(topic):
        raise MtbfError(f"gateway {gateway!r} cannot name a Kafka topic (letters, digits, ._-)")
    return topic


def messages(columns: Columns) -> Iterator[tuple[int, bytes, bytes]]:
    """(minute, key, value) of each reading, in time order."""
    import orjson

    times = iso_minutes(columns["minute"])
    measures = [columns[m].tolist() for m in MEASURES]
    for minute, time_, *values in zip(columns["minute"].tolist(), times, *measures, strict=True):
        body = {"time": time_, **dict(zip(MEASURES, values, strict=True))}
        yield minute, time_.encode(), orjson.dumps(body)


def publish(
    data: Path,
    broker: str,
    speed: float | None = None,
    gateways: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    progress: Callable[[int], None] = lambda done: None,
) -> dict[str, int]:
    """Publish the readings of ``data`` (any form ``analyse`` reads) to ``broker``; the
    number of messages per topic. ``progress`` is told every 10,000 readings a topic sends."""
    sources, period = gateway_sources(data, None, start, end, gateways)
    topics = {source.gateway: topic_for(source.gateway) for source in sources}
    producer = _producer(broker, list(topics.values()))
    sent = dict.fromkeys(topics.values(), 0)
    failures: list[str] = []
    # per topic and partition: readings acknowledged, the lowest and highest offset given
    stored: dict[tuple[str, int], list[int]] = {}

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            if len(failures) < 5:
                failures.append(f"{message.topic()} {message.key().decode()}: {error}")
            return
        place, offset = (message.topic(), message.partition()), message.offset()
        seen = stored.get(place)
        if seen is None:
            stored[place] = [1, offset, offset]
        else:
            seen[0] += 1
            seen[1], seen[2] = min(seen[1], offset), max(seen[2], offset)

    def send(topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.05)
        sent[topic] += 1
        if sent[topic] % 10_000 == 0:
            producer.poll(0)
            progress(10_000)

    if speed is None:
        for source in sources:
            topic = topics[source.gateway]
            for _, key, value in messages(source.fetch(period)):
                send(topic, key, value)
    else:
        _paced(sources, period, topics, speed, send)
    if producer.flush(60) or failures:
        raise MtbfError(
            f"broker {broker}: messages not delivered: {'; '.join(failures) or 'timed out'}"
        )
    _check_offsets(broker, stored)
    return sent


def _check_offsets(broker: str, stored: dict[tuple[str, int], list[int]]) -> None:
    """Every acknowledged reading must have an offset of its own in its partition: fewer
    offsets than readings would mean a broker that acknowledged readings it wrote over
    others, which no consumer would see. The offsets are not kept one by one (a year of a
    gateway is 525,600): their span in a partition cannot be narrower than their count."""
    for (topic, _), (count, lowest, highest) in sorted(stored.items()):
        if highest - lowest + 1 < count:
            raise MtbfError(
                f"broker {broker}: topic {topic}: {count} readings acknowledged at only "
                f"{highest - lowest + 1} offsets ({lowest} to {highest}): the broker kept "
                f"at most {highest - lowest + 1} of them"
            )


def _paced(
    sources: list[Any],
    period: Bounds,
    topics: dict[str, str],
    speed: float,
    send: Callable[[str, bytes, bytes], None],
) -> None:
    """Every gateway's readings merged by minute, each sent when its minute comes at
    ``speed`` times real time."""
    import heapq

    def stream(source: Any) -> Iterator[tuple[int, str, bytes, bytes]]:
        topic = topics[source.gateway]
        for minute, key, value in messages(source.fetch(period)):
            yield minute, topic, key, value

    streams = [stream(source) for source in sources]
    began, first = time.monotonic(), None
    for minute, topic, key, value in heapq.merge(*streams):
        first = minute if first is None else first
        wait = began + (minute - first) * 60 / speed - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        send(topic, key, value)


def client_settings(broker: str) -> dict[str, Any]:
    """What every client of ``broker`` is given."""
    return {
        "bootstrap.servers": broker,
        "socket.timeout.ms": 10_000,
        "logger": QUIET,  # librdkafka's own lines (reconnects) stay off the user's stderr
    }


def broker_topics(broker: str, admin: Any = None) -> dict[str, Any]:
    """The topics on ``broker`` by name (their metadata); a broker that does not answer is
    a clean error, not librdkafka's endless retries."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = admin or AdminClient(client_settings(broker))
    try:
        return dict(admin.list_topics(timeout=10).topics)
    except KafkaException as error:
        raise MtbfError(f"cannot reach the Kafka broker at {broker}: {error}") from None


def _producer(broker: str, topics: list[str]) -> Any:
    """A producer on ``broker`` with the topics made (one partition each); a broker that
    does not answer is a clean error, not librdkafka's endless retries."""
    from confluent_kafka import KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    settings = client_settings(broker)
    admin = AdminClient(settings)
    existing = set(broker_topics(broker, admin))
    wanted = [
        NewTopic(t, num_partitions=1, replication_factor=1) for t in topics if t not in existing
    ]
    for topic, future in (admin.create_topics(wanted) if wanted else {}).items():
        try:
            future.result(30)
        except KafkaException as error:
            raise MtbfError(f"broker {broker}: cannot create topic {topic}: {error}") from None
    return Producer(
        {
            **settings,
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "message.timeout.ms": 60_000,
            "enable.idempotence": False,
        }
    )
