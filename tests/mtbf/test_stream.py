"""The streaming path's first half: a real Kafka-protocol broker (tansu, started and stopped
by pid on 127.0.0.1) and `python -m mtbf_example publish`, checked by reading every topic
back with confluent-kafka."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mtbf_example.dataset import read_gateway
from mtbf_example.generate import generate
from mtbf_example.schema import MEASURES
from mtbf_example.service import iso_minutes

from .helpers import DEAD_NOON, free_port, row, run_module, write_csv

DAYS = 2


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    from mtbf_example.broker import running_broker

    with running_broker() as address:
        yield address


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("stream") / "homes"
    truths = dict(generate(folder, homes=3, days=DAYS, seed=11))
    return folder, sorted(truths)


def read_topic(broker: str, topic: str, expected: int) -> list[Any]:
    """The messages of a one-partition topic from its start: until ``expected`` came (or a
    minute passed), then whatever else comes within a second (a message too many shows)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": broker, "group.id": "test-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    got: list[Any] = []
    deadline = time.monotonic() + 60
    while len(got) < expected and time.monotonic() < deadline:
        got += [m for m in consumer.consume(10_000, 1.0) if m.error() is None]
    got += [m for m in consumer.consume(10_000, 1.0) if m.error() is None]
    consumer.close()
    return got


def test_publish_sends_each_reading_once_in_time_order(broker: str, homes: Any) -> None:
    data, gateways = homes
    result = run_module("publish", str(data), "--broker", broker)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"published {3 * DAYS * 1440} readings to 3 topics\n"
    for gateway in gateways:
        columns = read_gateway(data, gateway, None, None)
        messages = read_topic(broker, f"mtbf.{gateway}", DAYS * 1440)
        assert len(messages) == DAYS * 1440
        times = iso_minutes(columns["minute"])
        assert [m.key().decode() for m in messages] == times
        bodies = [orjson.loads(m.value()) for m in messages]
        assert [b["time"] for b in bodies] == times
        for measure in MEASURES:
            assert [b[measure] for b in bodies] == columns[measure].tolist()


def test_publish_never_claims_readings_the_broker_did_not_keep(broker: str, tmp_path: Path) -> None:
    """Ten days of one home, more than one batch (10,000 readings at most each): publish
    checks that the broker gave every reading an offset of its own, so either it succeeds and
    every reading comes back in order, or it fails naming the topic."""
    data = tmp_path / "ten-days"
    (gateway,) = dict(generate(data, homes=1, days=10, seed=13))
    result = run_module("publish", str(data), "--broker", broker)
    topic = f"mtbf.{gateway}"
    if result.returncode == 0:
        messages = read_topic(broker, topic, 10 * 1440)
        assert [m.key().decode() for m in messages] == iso_minutes(
            read_gateway(data, gateway, None, None)["minute"]
        )
    else:
        assert result.returncode == 2
        assert result.stderr.startswith(f"error: broker {broker}: topic {topic}: 14400 readings")
        assert "the broker kept at most" in result.stderr


def test_publish_at_a_speed_takes_its_time(broker: str, tmp_path: Path) -> None:
    """A day of two homes at 86,400 times real time: a second, every reading sent once."""
    data = tmp_path / "paced"
    gateways = sorted(dict(generate(data, homes=2, days=1, seed=12)))
    started = time.monotonic()
    result = run_module("publish", str(data), "--broker", broker, "--speed", "86400")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert took >= 1.0
    for gateway in gateways:
        messages = read_topic(broker, f"mtbf.{gateway}", 1440)
        assert [m.key().decode() for m in messages] == iso_minutes(
            read_gateway(data, gateway, None, None)["minute"]
        )


def test_an_unreachable_broker_is_a_clean_error(homes: Any) -> None:
    data, _ = homes
    port = free_port()
    result = run_module("publish", str(data), "--broker", f"127.0.0.1:{port}")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot reach the Kafka broker at 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr and "%" not in result.stderr


def test_a_gateway_that_cannot_name_a_topic_is_refused(broker: str, tmp_path: Path) -> None:
    data = write_csv(tmp_path / "odd.csv", [row("home 7", "2017-06-04T12:00:00Z", DEAD_NOON)])
    result = run_module("publish", str(data), "--broker", broker)
    assert result.returncode == 2
    assert result.stderr == (
        "error: gateway 'home 7' cannot name a Kafka topic (letters, digits, ._-)\n"
    )


def test_the_broker_command_serves_until_interrupted() -> None:
    """What a user runs to try the streaming path: a broker on 127.0.0.1, stopped by Ctrl-C
    (and its tansu process with it)."""
    import signal
    import socket
    import subprocess
    import sys

    import psutil

    port = free_port()
    command = [sys.executable, "-m", "mtbf_example", "broker", "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    said = process.stderr.readline()  # printed once the broker answers
    assert said == f"Kafka-compatible broker on 127.0.0.1:{port} (Ctrl-C stops it)\n"
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    children = psutil.Process(process.pid).children(recursive=True)
    assert [child.name() for child in children] == ["tansu"]
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 0 and rest == ""
    assert not any(child.is_running() for child in children)


def test_offsets_that_overlap_are_an_error() -> None:
    """The check publish makes: readings acknowledged at fewer offsets than their count in
    one partition (a broker that wrote some over others) fail, naming the topic; the same
    offsets in two partitions of a topic do not."""
    from mtbf_example.errors import MtbfError
    from mtbf_example.publish import _check_offsets

    _check_offsets("b:1", {("mtbf.A", 0): [3, 0, 2], ("mtbf.A", 1): [3, 0, 2]})
    with pytest.raises(MtbfError) as raised:
        _check_offsets("b:1", {("mtbf.A", 0): [3, 0, 2], ("mtbf.B", 0): [4, 10, 11]})
    assert str(raised.value) == (
        "broker b:1: topic mtbf.B: 4 readings acknowledged at only 2 offsets (10 to 11): "
        "the broker kept at most 2 of them"
    )
