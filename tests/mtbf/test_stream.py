"""The streaming path's first half: a real Kafka-protocol broker (tansu, started and stopped
by pid on 127.0.0.1) and `python -m mtbf_example publish`, checked by reading every topic
back with confluent-kafka."""

from __future__ import annotations

import os
import subprocess
import sys
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
from tests.helpers import (
    ROOT,
    compile_for_session,
    compile_into,
    run_as_user,
    run_in_session,
    run_script,
)

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


STREAM = ROOT / "mtbf_example" / "mtbf_stream.py"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Three homes over three days on topics of their own (a separate broker: the tests
    above publish into the module's broker)."""
    from mtbf_example.broker import running_broker

    folder = tmp_path_factory.mktemp("streamed") / "homes"
    list(generate(folder, homes=3, days=3, seed=21))
    with running_broker() as address:
        result = run_module("publish", str(folder), "--broker", address)
        assert result.returncode == 0, result.stderr
        yield address, folder


def following(address: str, *options: str, script: Path | None = None) -> subprocess.Popen[str]:
    """The streaming program (or ``script``) in --follow mode, as a user starts it, its
    output piped."""
    return subprocess.Popen(
        [sys.executable, str(script or STREAM), "--broker", address, "--follow", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TOREADOR_PROGRESS="0"),
    )


def day_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if " readings, " in line]


def test_the_stream_reports_each_day_then_the_mtbf_analyse_gives(
    published: tuple[str, Path],
) -> None:
    address, data = published
    first = run_script(STREAM, "--broker", address, "--group", "sequential")
    assert first.returncode == 0, first.stderr
    lines = day_lines(first.stdout)
    gateways = sorted({line.split()[0] for line in lines})
    assert len(gateways) == 3
    expected_days = ["2017-06-01:", "2017-06-02:", "2017-06-03:"]
    assert [line.split()[:2] for line in lines] == [
        [gateway, day] for gateway in gateways for day in expected_days
    ]
    assert all(" 1440 readings, " in line for line in lines)
    analysed = run_module("analyse", str(data))
    assert first.stdout == "".join(f"{line}\n" for line in lines) + analysed.stdout
    # the group's offsets were committed after the lines: nothing new the second time
    again = run_script(STREAM, "--broker", address, "--group", "sequential")
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr == "no new readings since the group's last report\n"


def test_the_compiled_stream_prints_what_the_program_prints(
    published: tuple[str, Path], tmp_path: Path
) -> None:
    address, _ = published
    reference = run_script(
        STREAM, "--broker", address, "--group", "reference", "--days-per-round", "1"
    )
    out = compile_into(STREAM, tmp_path / "out")
    compiled = run_as_user(
        out / "Main.py", "--broker", address, "--group", "compiled", "--days-per-round", "1"
    )
    assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
    assert compiled.stdout == reference.stdout
    # a day a round: the reader holds the days it read beyond a round, pausing their topics
    lines = day_lines(compiled.stdout)
    assert [line.split()[1] for line in lines] == [
        f"2017-06-0{d}:" for d in (1, 2, 3) for _ in "abc"
    ]


def test_ctrl_c_ends_a_compiled_follow_run_with_the_report_of_what_it_read(
    published: tuple[str, Path], tmp_path: Path
) -> None:
    """Following three published days, the compiled program prints days one and two (the
    third stays open); Ctrl-C then ends it with the MTBF of those two days."""
    import signal

    address, data = published
    out = compile_into(STREAM, tmp_path / "out")
    follow = following(address, "--group", "ctrl-c", script=out / "Main.py")
    seen = [follow.stdout.readline() for _ in range(6)]  # type: ignore[union-attr]
    time.sleep(0.5)
    follow.send_signal(signal.SIGINT)
    rest, said = follow.communicate(timeout=60)
    assert follow.returncode == 0, said
    assert sorted(line.split()[1] for line in seen) == ["2017-06-01:"] * 3 + ["2017-06-02:"] * 3
    analysed = run_module("analyse", str(data), "--end", "2017-06-02T23:59:00Z")
    assert rest == analysed.stdout


def test_a_run_killed_and_started_again_neither_loses_nor_doubles_a_day(
    tmp_path: Path,
) -> None:
    """Two days published; a --follow run reports the first (the second is still open),
    commits, and is killed; a third day is published; the run started again with the same
    group reports days two and three, and their MTBF is what `analyse` gives from day two."""
    import signal

    from mtbf_example.broker import running_broker

    data = tmp_path / "homes"
    gateways = sorted(dict(generate(data, homes=2, days=3, seed=22)))
    with running_broker() as address:
        early = run_module(
            "publish", str(data), "--broker", address, "--end", "2017-06-02T23:59:00Z"
        )
        assert early.returncode == 0, early.stderr
        follow = following(address, "--group", "g")
        seen = [follow.stdout.readline() for _ in gateways]
        time.sleep(3)  # its commits follow its lines at once; then it waits for readings
        follow.send_signal(signal.SIGKILL)
        follow.wait(timeout=30)
        assert [line.split()[:2] for line in seen] == [[g, "2017-06-01:"] for g in gateways]
        late = run_module(
            "publish", str(data), "--broker", address, "--start", "2017-06-03T00:00:00Z"
        )
        assert late.returncode == 0, late.stderr
        again = run_script(STREAM, "--broker", address, "--group", "g")
    assert again.returncode == 0, again.stderr
    lines = day_lines(again.stdout)
    assert [line.split()[:2] for line in lines] == [
        [g, day] for g in gateways for day in ("2017-06-02:", "2017-06-03:")
    ]
    analysed = run_module("analyse", str(data), "--start", "2017-06-02T00:00:00Z")
    assert again.stdout == "".join(f"{line}\n" for line in lines) + analysed.stdout


def test_a_malformed_message_and_an_unknown_gateway_are_clean_errors(broker: str) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    made = admin.create_topics([NewTopic("mtbf.BAD1", 1), NewTopic("mtbf.SPLIT", 2)])
    for done in made.values():
        done.result(30)
    producer = Producer({"bootstrap.servers": broker})
    good = orjson.dumps(
        {"time": "2017-06-01T00:00:00Z", "pcons": 1.0, "pbatt": 1.0, "pdc": 1.0, "soc": 1.0}
    )
    producer.produce("mtbf.BAD1", good, b"2017-06-01T00:00:00Z")
    producer.produce("mtbf.BAD1", b'{"time": "2017-06-01T00:01:00Z", "pcons": 1.0}', b"k")
    producer.flush(30)
    result = run_script(STREAM, "--broker", broker, "--gateway", "BAD1")
    assert result.returncode == 2
    assert result.stderr == "error: topic mtbf.BAD1 offset 1: malformed message: 'pbatt'\n"
    assert result.stdout == ""
    split = run_script(STREAM, "--broker", broker, "--gateway", "SPLIT")
    assert (split.returncode, split.stdout) == (2, "")
    assert split.stderr == (
        "error: topic mtbf.SPLIT has 2 partitions: a gateway's readings keep their order in "
        "one (publish makes it so)\n"
    )
    unknown = run_script(STREAM, "--broker", broker, "--gateway", "NOPE")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: no topic for gateway(s) NOPE on ")


def test_messages_keyed_otherwise_are_placed_by_their_time(broker: str) -> None:
    """Days are split by the message key (the reading's time, as publish writes it); a
    gateway that keys its messages otherwise is read by the time in each value; a key that
    says another day than its value is an error naming the message."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    for done in admin.create_topics([NewTopic("mtbf.NOKEY", 1), NewTopic("mtbf.LIAR", 1)]).values():
        done.result(30)
    producer = Producer({"bootstrap.servers": broker})
    times = [f"2017-06-0{day}T{hour:02d}:00:00Z" for day in (1, 2) for hour in (0, 12, 23)]
    for time_ in times:
        value = orjson.dumps({"time": time_, "pcons": 1.0, "pbatt": 1.0, "pdc": 900.0, "soc": 50.0})
        producer.produce("mtbf.NOKEY", value, b"gateway NOKEY" if time_[12] != "2" else None)
        producer.produce("mtbf.LIAR", value, time_.replace("06-01T23", "06-02T23").encode())
    producer.flush(30)
    keyless = run_script(STREAM, "--broker", broker, "--gateway", "NOKEY")
    assert keyless.returncode == 0, keyless.stderr
    assert day_lines(keyless.stdout) == [
        "NOKEY 2017-06-01: 3 readings, 0 battery failures, 0 solar failures",
        "NOKEY 2017-06-02: 3 readings, 0 battery failures, 0 solar failures",
    ]
    liar = run_script(STREAM, "--broker", broker, "--gateway", "LIAR")
    assert (liar.returncode, liar.stdout) == (2, "")
    assert liar.stderr == (
        "error: topic mtbf.LIAR offset 2: a reading of 2017-06-01 among those of 2017-06-02 "
        "(its key says another day)\n"
    )


def test_the_reader_holds_what_it_read_beyond_a_round(broker: str) -> None:
    """Ten short days on a topic, a day a round: the first fetch brings them all; the reader
    keeps the days beyond the round, pauses the topic, and gives each day once, in order,
    its offsets following on from the last, over ten rounds."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from mtbf_example.stream import TopicReader

    admin = AdminClient({"bootstrap.servers": broker})
    for done in admin.create_topics([NewTopic("mtbf.SHORT", 1)]).values():
        done.result(30)
    producer = Producer({"bootstrap.servers": broker})
    for day in range(1, 11):
        for hour in (0, 12, 23):
            time_ = f"2017-06-{day:02d}T{hour:02d}:00:00Z"
            value = {"time": time_, "pcons": 1.0, "pbatt": 1.0, "pdc": 900.0, "soc": 50.0}
            producer.produce("mtbf.SHORT", orjson.dumps(value), time_.encode())
    producer.flush(30)
    reader = TopicReader(broker, "hold", {"SHORT": 0})
    rounds, paused = [], []
    try:
        while True:
            got = list(reader.day_windows(["SHORT"], True, 1))
            paused.append(reader.topics["mtbf.SHORT"].paused)
            if not got:
                break
            rounds.append([(w.date, w.offsets, w.next_offset) for w in got])
    finally:
        reader.close()
    assert [[date for date, _, _ in days] for days in rounds] == [
        [f"2017-06-{day:02d}"] for day in range(1, 11)
    ]
    assert [offsets for days in rounds for _, offsets, _ in days] == [
        [3 * i, 3 * i + 1, 3 * i + 2] for i in range(10)
    ]
    assert [end for days in rounds for _, _, end in days] == [3 * i + 3 for i in range(10)]
    assert paused[0]  # it held nine days after the first round


def test_the_stream_on_spark_prints_what_the_program_prints(
    published: tuple[str, Path], spark_session: object, tmp_path: Path
) -> None:
    address, _ = published
    reference = run_script(STREAM, "--broker", address, "--group", "spark-reference")
    out = compile_for_session(STREAM, tmp_path, "auto", "spark")
    compiled = run_in_session(out / "Main.py", "--broker", address, "--group", "spark")
    assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
    assert compiled.stdout == reference.stdout


def test_the_stream_on_docker_prints_what_the_program_prints(
    published: tuple[str, Path], docker_engine: dict[str, str], tmp_path: Path
) -> None:
    """The main program reads the topics; the days travel to the worker containers through
    the engine's Redis queue."""
    from tests.conftest import docker_leftovers
    from tests.test_docker_target import docker_model

    address, _ = published
    reference = run_script(STREAM, "--broker", address, "--group", "docker-reference")
    model = docker_model(tmp_path)
    out = compile_into(STREAM, tmp_path / "out", "auto", "docker", model)
    compiled = run_script(
        out / "Main.py", "--broker", address, "--group", "docker", env=docker_engine
    )
    assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
    assert compiled.stdout == reference.stdout
    assert docker_leftovers() == []


def test_a_broker_that_goes_away_mid_run_is_a_clean_error(tmp_path: Path) -> None:
    """A --follow run has printed its first days; the broker stops: the run ends with one
    line naming the topic and the offset it waited at, exit status 2, and no report."""
    from mtbf_example.broker import running_broker

    data = tmp_path / "homes"
    gateways = sorted(dict(generate(data, homes=2, days=2, seed=23)))
    with running_broker() as address:
        assert run_module("publish", str(data), "--broker", address).returncode == 0
        follow = following(address, "--broker-timeout", "3")
        seen = [follow.stdout.readline() for _ in gateways]  # day one of each
    rest, said = follow.communicate(timeout=120)
    assert [line.split()[:2] for line in seen] == [[g, "2017-06-01:"] for g in gateways]
    assert (follow.returncode, rest) == (2, "")
    assert said.startswith(f"error: broker {address}: topic mtbf.")
    assert "the days from there are not reported" in said
    assert "Traceback" not in said
