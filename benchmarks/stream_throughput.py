"""Streaming MTBF throughput and delay, on 2 cores.

Run: .venv/bin/python benchmarks/stream_throughput.py [--homes 10] [--days 60] [--repeat 3]
                                                      [--live-days 4] [--day-seconds 2]

1. Topics to report: a tansu broker on 127.0.0.1 (in memory); the data set published once,
   one message per reading (`publish`, as fast as it goes); then, alternating, the sequential
   `mtbf_stream.py` and its compiled local program read every topic from the start (a
   consumer group of their own each run) and print the day lines and the report: the same
   output every time. Printed: the publish rate, and for each side the median and slowest
   run and readings per second. Goal (issue 18): at least 100,000 readings/s, compiled.
2. Publish and report at once: on a fresh broker (the topics made), `publish` (as fast as it
   goes) and each side with --follow are started together; timed to the line of the last
   day that closed (the data set's last day stays open). Its lines must be the first run's
   (in the order of rounds: compared per gateway).
3. Delay: on a fresh broker with the first day published, each side runs with --follow while
   the benchmark sends the next days as a live gateway does, minute after minute, a day
   every --day-seconds seconds; for each day line, the time from the broker's acknowledgement
   of the reading that closed the day (the next day's first) to the line. A day closes only
   when a reading of the next day comes: live, that is a minute after the day's last one.
"""

from __future__ import annotations

import argparse
import heapq
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import ENV, ROOT, Samples, compile_example

GOAL = 100_000
PYTHON = sys.executable


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--homes", type=int, default=10)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--live-days", type=int, default=4)
    parser.add_argument("--day-seconds", type=float, default=2.0)
    options = parser.parse_args()
    if options.live_days >= options.days:  # the live run needs a reading after its last day
        parser.error("--live-days must be fewer than --days")
    sys.path.insert(0, str(ROOT))
    from mtbf_example.broker import running_broker

    data = Path(tempfile.mkdtemp(prefix="toreador-stream-")) / "homes"
    generate = [PYTHON, "-m", "mtbf_example", "generate", str(data)]
    timed([*generate, "--homes", str(options.homes), "--days", str(options.days)])
    readings = options.homes * options.days * 1440
    stream = ROOT / "mtbf_example" / "mtbf_stream.py"
    sides = {"sequential": stream, "compiled (local)": compile_example(str(stream))}
    with running_broker() as broker:
        seconds, _ = timed([PYTHON, "-m", "mtbf_example", "publish", str(data), "--broker", broker])
        print(
            f"{options.homes} homes x {options.days} days: {readings:,} readings published in "
            f"{seconds:.1f} s ({readings / seconds:,.0f} readings/s)"
        )
        samples = {side: Samples() for side in sides}
        expected = None
        for run in range(options.repeat):
            for side, script in sides.items():
                group = f"bench-{run}-{side.split()[0]}"
                seconds, stdout = timed([PYTHON, str(script), "--broker", broker, "--group", group])
                if expected is None:
                    expected = stdout
                elif stdout != expected:
                    print(f"{side}: THE OUTPUT DIFFERS")
                    return 1
                samples[side].add(seconds)
    assert expected is not None
    good = True
    for side, script in sides.items():
        seconds, lines = publish_while_following(script, data, options.days)
        closed = options.homes * ((options.days - 1) * 1440 + 1)  # to the last day's closing
        # following, lines come a round at a time: compared per gateway, not line by line
        if sorted(lines) != sorted(day_lines(expected, options.days - 1)):
            print(f"{side}, publishing while following: THE DAY LINES DIFFER")
            return 1
        print(
            f"{side}, publish and --follow started together: the last closed day's line "
            f"{seconds:.2f} s later ({closed / seconds:,.0f} readings/s)"
        )
    for side, script in sides.items():
        delays = live_delays(script, data, options.live_days, options.day_seconds)
        print(
            f"{side}, live ({options.homes} gateways, a day every {options.day_seconds:g} s): "
            f"{len(delays)} day lines, {statistics.median(delays) * 1000:.0f} ms median from "
            f"the closing reading's acknowledgement to the line, slowest "
            f"{max(delays) * 1000:.0f} ms"
        )
    for side, sample in samples.items():
        rate = readings / sample.median
        print(
            f"{side}: {sample}; {rate:,.0f} readings/s at the median, "
            f"{readings / sample.slowest:,.0f} at the slowest"
        )
        if side.startswith("compiled"):
            good = rate >= GOAL
            print(f"  goal {GOAL:,} readings/s compiled: {'ok' if good else 'BELOW GOAL'}")
    return 0 if good else 1


def day_lines(stdout: str, days: int | None = None) -> list[str]:
    """The day lines of ``stdout``, of its first ``days`` days per gateway if told."""
    lines = [line for line in stdout.splitlines() if " readings, " in line]
    if days is None:
        return lines
    dates = sorted({line.split()[1] for line in lines})[:days]
    return [line for line in lines if line.split()[1] in dates]


class Follower:
    """The streaming program in --follow mode, its lines timed as they come."""

    def __init__(self, script: Path, broker: str) -> None:
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen(
            [PYTHON, str(script), "--broker", broker, "--follow", "--group", "live"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.said: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors = threading.Thread(target=self._read_errors, daemon=True)
        self.errors.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def _read_errors(self) -> None:  # a full pipe nobody reads would stop the program
        assert self.process.stderr is not None
        self.said += self.process.stderr

    def wait_for(self, count: int, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while len(day_lines("\n".join(line for _, line in self.lines))) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the follower stopped or hung: {''.join(self.said)[-3000:]}")
            time.sleep(0.01)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            said = "".join(self.said)[-3000:]
            raise SystemExit(f"Ctrl-C did not stop the follower: {said}") from None
        self.reader.join(timeout=10)


def make_topics(broker: str, gateways: list[str]) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    from mtbf_example.publish import client_settings, topic_for

    admin = AdminClient(client_settings(broker))
    for done in admin.create_topics([NewTopic(topic_for(g), 1) for g in gateways]).values():
        done.result(30)


def publish_while_following(script: Path, data: Path, days: int) -> tuple[float, list[str]]:
    """Seconds from starting `publish` (the data set of ``days`` days, as fast as it goes)
    and the follower together to the line of the last day that closed; the day lines."""
    from mtbf_example.broker import running_broker
    from mtbf_example.sources import gateway_sources

    sources, _ = gateway_sources(data, None, None, None, None)
    gateways = [source.gateway for source in sources]
    with running_broker() as broker:
        make_topics(broker, gateways)
        started = time.monotonic()
        publisher = subprocess.Popen(
            [PYTHON, "-m", "mtbf_example", "publish", str(data), "--broker", broker],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its progress; its exit status says how it went
            env=ENV,
        )
        follower = Follower(script, broker)
        follower.wait_for(len(gateways) * (days - 1))
        seconds = max(at for at, _ in follower.lines) - started
        if publisher.wait(timeout=300) != 0:
            raise SystemExit(f"publish failed with exit status {publisher.returncode}")
        follower.stop()
    return seconds, day_lines("\n".join(line for _, line in follower.lines))


def live_delays(script: Path, data: Path, days: int, day_seconds: float) -> list[float]:
    """Per day line: seconds from the broker's acknowledgement of the reading that closed
    the day to the line, the readings sent minute after minute as a live gateway does."""
    from confluent_kafka import Producer

    from mtbf_example.broker import running_broker
    from mtbf_example.publish import client_settings, messages, topic_for
    from mtbf_example.sources import gateway_sources

    sources, period = gateway_sources(data, None, None, None, None)
    feeds = []
    for source in sources:
        topic = topic_for(source.gateway)
        feeds.append([(m, topic, k, v) for m, k, v in messages(source.fetch(period))])
    readings = list(heapq.merge(*feeds))
    first_day = readings[0][0] - readings[0][0] % 1440
    end = first_day + days * 1440
    opening = [r for r in readings if r[0] < first_day + 1440]
    later = [r for r in readings if first_day + 1440 <= r[0] < end + 1]  # and one closing
    acknowledged: dict[tuple[str, str], float] = {}  # (topic, date) closed -> when

    def delivered(error: Any, message: Any) -> None:
        if error is None and message.key().endswith(b"T00:00:00Z"):
            closed = day_before(message.key()[:10].decode())
            acknowledged[(message.topic(), closed)] = time.monotonic()

    with running_broker() as broker:
        producer = Producer({**client_settings(broker), "linger.ms": 1})
        make_topics(broker, [source.gateway for source in sources])
        for _, topic, key, value in opening:
            producer.produce(topic, value, key)
        producer.flush(60)
        follower = Follower(script, broker)
        time.sleep(2)  # it has started and read the first day (still open)
        began, first = time.monotonic(), later[0][0]
        for minute, topic, key, value in later:
            wait = began + (minute - first) * day_seconds / 1440 - time.monotonic()
            if wait > 0:
                producer.poll(wait)
            producer.produce(topic, value, key, on_delivery=delivered)
            producer.poll(0)
        producer.flush(60)
        follower.wait_for(len(sources) * days)
        follower.stop()
    delays = []
    for at, line in follower.lines:
        if " readings, " in line:
            gateway, date = line.split()[0], line.split()[1].rstrip(":")
            delays.append(at - acknowledged[(topic_for(gateway), date)])
    return delays


def day_before(date: str) -> str:
    import numpy as np

    return str(np.datetime64(date) - np.timedelta64(1, "D"))


if __name__ == "__main__":
    sys.exit(main())
