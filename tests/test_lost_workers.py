"""Lost workers are retried: a chaos harness of kernels that kill their own worker.

The kernels below kill the process they run in (SIGKILL, or ``os._exit``) when they meet
chosen items, only when the test sets CHAOS_DIR (never in the sequential reference), and
only the first time unless CHAOS_EVERY is set: a marker file per item says it happened.
The compiled program must then print exactly what the reference prints, line by line, or,
when every attempt dies, fail naming the items, the attempts and each cause.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from toreador.compiler.deploy_model import load_model

from .helpers import compile_into, in_workers, run_as_user, run_script

KILLER = """\
import os
import signal
import sys

from toreador import bag_of_task, data_parallel_region

CHAOS = os.environ.get("CHAOS_DIR")
EVERY = os.environ.get("CHAOS_EVERY")
VICTIMS = {7, 123, 555}


def maybe_die(x):
    # a worker lost the way a user meets it: the kernel's process is killed or exits
    if CHAOS and x in VICTIMS:
        marker = os.path.join(CHAOS, f"killed-{x}")
        if EVERY or not os.path.exists(marker):
            open(marker, "a").close()
            if x == 123:
                os._exit(3)  # a library calling os._exit
            os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer's way


def work(x):
    maybe_die(x)
    print(f"item {x}")
    return x * x


def task(x):
    return work(x) + 1


n = int(sys.argv[1])
if sys.argv[2] == "bag":
    print(sum(bag_of_task(list(range(n)), [task] * n)))
else:
    print(sum(data_parallel_region(range(n), work)))
print("done")
"""

LOCAL_PATTERNS = ["mapreduce", "producer-consumer", "bag-of-tasks"]


def chaos_env(folder: Path, every: bool = False) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    env = dict(os.environ, CHAOS_DIR=str(folder))
    if every:
        env["CHAOS_EVERY"] = "1"
    return env


@pytest.mark.parametrize("pattern", LOCAL_PATTERNS)
@pytest.mark.parametrize("shape", ["map", "bag"])
def test_a_worker_killed_once_is_replaced_and_nothing_is_lost_or_doubled(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path, pattern: str, shape: str
) -> None:
    program = write_program(KILLER)
    expected = run_script(program, "800", shape)
    assert expected.returncode == 0 and expected.stdout.count("item ") == 800
    out = compile_into(program, tmp_path / "out", pattern, model=in_workers())
    chaos = tmp_path / "chaos"
    got = run_script(out / "Main.py", "800", shape, env=chaos_env(chaos), timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == expected.stdout.splitlines()
    # the three victims did kill their workers (else this test would prove nothing)
    assert sorted(p.name for p in chaos.iterdir()) == ["killed-123", "killed-555", "killed-7"]
    # each retry said on stderr, once (victims that die in the same moment are found by one
    # check, or the second is ended by the restart the first caused and not charged)
    assert 1 <= got.stderr.count("lost their worker") <= 3
    assert got.stderr.count("attempt 2 of 4") == got.stderr.count("lost their worker")


def test_a_batch_that_kills_every_worker_gives_up_after_max_attempts(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    program = write_program(KILLER)
    model_file = tmp_path / "model.toml"
    model_file.write_text("max_attempts = 3\n")
    out = compile_into(program, tmp_path / "out", model=in_workers(load_model(model_file)))
    got = run_script(
        out / "Main.py", "300", "map", env=chaos_env(tmp_path / "chaos", every=True), timeout=120
    )
    assert got.returncode == 1
    assert "WorkerLostError" in got.stderr and "Traceback" in got.stderr
    message = got.stderr.strip().splitlines()[-1]
    assert "lost their worker 3 time(s)" in message and "max_attempts = 3" in message
    assert "attempt 1: killed by SIGKILL; attempt 2: killed by SIGKILL; attempt 3: " in message
    start, stop = (int(n) for n in message.split("items ")[1].split(" ")[0].split(".."))
    assert start <= 7 <= stop  # the batch that held item 7, the first victim
    assert "done" not in got.stdout  # nothing printed as if complete
    # what was printed is the reference's output up to the lost batch, in order
    printed = [int(line.split()[1]) for line in got.stdout.splitlines()]
    assert printed == list(range(start))


def test_an_exit_status_is_named_when_workers_keep_exiting(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(KILLER.replace("VICTIMS = {7, 123, 555}", "VICTIMS = {123}"))
    out = compile_into(program, tmp_path / "out", model=in_workers())
    got = run_script(
        out / "Main.py", "300", "map", env=chaos_env(tmp_path / "chaos", every=True), timeout=120
    )
    assert got.returncode == 1
    message = got.stderr.strip().splitlines()[-1]
    assert "lost their worker 4 time(s)" in message
    assert message.count("exit status 3") == 4


def test_a_kernels_exception_is_not_retried(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # raises the first time it meets item 7 only: a retry would succeed, the reference does not
    program = write_program(
        KILLER.replace(
            "os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer's way",
            "raise ValueError(f'first meeting with {x}')",
        ).replace("VICTIMS = {7, 123, 555}", "VICTIMS = {7, 555}")
    )
    expected = run_script(program, "300", "map", env=chaos_env(tmp_path / "reference"))
    assert expected.returncode == 1 and "ValueError: first meeting with 7" in expected.stderr
    out = compile_into(program, tmp_path / "out", model=in_workers())
    got = run_script(out / "Main.py", "300", "map", env=chaos_env(tmp_path / "chaos"))
    assert got.returncode == 1
    assert "ValueError: first meeting with 7" in got.stderr and "again" not in got.stderr
    assert got.stdout == expected.stdout


# Item 1 fails (the first time only) a second after it starts; item 3 kills its worker while
# item 1 still runs on the other one (in a worker only: the reference runs it in its own
# process), the first time or every time. Four items, two workers: one item per batch.
RACE = """\
import os
import signal
import sys
import time

from toreador import data_parallel_region, producer_consumer

CHAOS = os.environ["CHAOS_DIR"]
MAIN = os.getpid()


def first_time(name):
    marker = os.path.join(CHAOS, name)
    if os.path.exists(marker):
        return False
    open(marker, "a").close()
    return True


def work(x):
    if x == 1 and first_time("raised-1"):
        time.sleep(1.5)
        raise ValueError("item 1 fails the first time")
    if x == 3 and os.getpid() != MAIN and (os.environ.get("CHAOS_EVERY") or first_time("killed-3")):
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGKILL)
    print(f"item {x}")
    return x


if sys.argv[1] == "stream":
    print(sum(producer_consumer(iter(range(4)), work)))
else:
    print(sum(data_parallel_region(list(range(4)), work)))
"""


@pytest.mark.parametrize("shape", ["list", "stream"])
def test_a_worker_dying_while_another_fails_does_not_retry_the_failure(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path, shape: str
) -> None:
    # the live worker finishes its batch (and its exception is kept) before the workers are
    # replaced: ending it at once would run item 1 again, and it would pass the second time
    program = write_program(RACE)
    expected = run_script(program, shape, env=chaos_env(tmp_path / "reference"))
    assert expected.returncode == 1 and "item 1 fails" in expected.stderr
    assert expected.stdout == "item 0\n"
    out = compile_into(program, tmp_path / "out", "producer-consumer", model=in_workers())
    chaos = tmp_path / "chaos"
    got = run_script(out / "Main.py", shape, env=chaos_env(chaos), timeout=120)
    assert got.returncode == 1
    assert "ValueError: item 1 fails the first time" in got.stderr
    assert got.stdout == expected.stdout
    assert sorted(p.name for p in chaos.iterdir()) == ["killed-3", "raised-1"]  # both happened
    assert got.stderr.count("lost their worker") == 1


def test_an_earlier_items_exception_wins_over_a_later_batch_given_up(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # item 3 kills every worker it meets: its batch is given up while item 1 (earlier in
    # input order) still runs; the reference raises item 1's exception, so does the run
    program = write_program(RACE)
    model_file = tmp_path / "model.toml"
    model_file.write_text("max_attempts = 1\n")
    out = compile_into(program, tmp_path / "out", model=in_workers(load_model(model_file)))
    got = run_script(
        out / "Main.py", "list", env=chaos_env(tmp_path / "chaos", every=True), timeout=120
    )
    assert got.returncode == 1
    assert "ValueError: item 1 fails the first time" in got.stderr
    assert "WorkerLostError" not in got.stderr
    assert got.stdout == "item 0\n"


STREAMED = """\
import sys
import time

from toreador import producer_consumer


def readings():
    for i in range(int(sys.argv[1])):
        if i % 50 == 0:
            time.sleep(0.01)  # a producer that reads as it goes
        yield i


def analyse(i):
    total = 0
    for k in range(3000):
        total += (i * k) % 11
    print(f"reading {i}: {total}")
    return total


print(sum(producer_consumer(readings(), analyse)))
"""


def test_workers_killed_from_outside_at_random_moments_lose_nothing(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    program = write_program(STREAMED)
    expected = run_script(program, "6000")
    out = compile_into(program, tmp_path / "out", model=in_workers())
    rng = random.Random(1515)  # seeded: the same moments on every run
    moments = sorted(rng.uniform(0.3, 1.5) for _ in range(4))
    process = subprocess.Popen(
        [sys.executable, str(out / "Main.py"), "6000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, TOREADOR_PROGRESS="0"),
    )
    started, killed = time.monotonic(), 0
    for moment in moments:
        time.sleep(max(0.0, started + moment - time.monotonic()))
        workers = psutil.Process(process.pid).children() if process.poll() is None else []
        if workers:
            os.kill(rng.choice(workers).pid, signal.SIGKILL)
            killed += 1
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert killed >= 2, "the run ended before the workers could be killed: make it longer"
    assert stdout.splitlines() == expected.stdout.splitlines()


# -- the other targets --------------------------------------------------------------------------
def test_the_hadoop_runner_runs_a_dead_task_again(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(KILLER)
    expected = run_script(program, "800", "map")
    out = compile_into(program, tmp_path / "out", target="hadoop", model=in_workers())
    chaos = tmp_path / "chaos"
    env = {k: v for k, v in chaos_env(chaos).items() if k != "HADOOP_HOME"}
    got = run_script(out / "Main.py", "800", "map", env=env, timeout=300)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == expected.stdout.splitlines()
    assert sorted(p.name for p in chaos.iterdir()) == ["killed-123", "killed-555", "killed-7"]


def test_the_hadoop_runner_gives_up_naming_the_task(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(KILLER)
    model_file = tmp_path / "model.toml"
    model_file.write_text("max_attempts = 2\n")
    model = in_workers(load_model(model_file))
    out = compile_into(program, tmp_path / "out", target="hadoop", model=model)
    env = chaos_env(tmp_path / "chaos", every=True)
    env.pop("HADOOP_HOME", None)
    got = run_script(out / "Main.py", "300", "map", env=env, timeout=300)
    assert got.returncode == 1
    message = got.stderr.strip().splitlines()[-1]
    assert "WorkerLostError" in message and "lost its process 2 time(s)" in message
    assert "attempt 1: killed by SIGKILL; attempt 2: killed by SIGKILL" in message
    assert "items from 0" in message and "max_attempts = 2" in message
    assert "done" not in got.stdout


def test_a_real_hadoop_is_given_the_attempts(hadoop_home: dict[str, str], tmp_path: Path) -> None:
    model_file = tmp_path / "model.toml"
    model_file.write_text("max_attempts = 3\n")
    program = tmp_path / "double.py"
    program.write_text(
        "from toreador import data_parallel_region\n"
        "def double(x):\n    return 2 * x\n"
        "print(data_parallel_region(list(range(10)), double))\n"
    )
    out = compile_into(program, tmp_path / "out", target="hadoop", model=load_model(model_file))
    got = run_script(out / "Main.py", env=hadoop_home, timeout=300, cwd=tmp_path)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == f"{[2 * x for x in range(10)]}\n"
    launched = next(line for line in got.stderr.splitlines() if " jar " in line)
    assert "-D mapreduce.map.maxattempts=3 -D mapreduce.reduce.maxattempts=3" in launched


@pytest.mark.parametrize("pattern", LOCAL_PATTERNS)
def test_spark_runs_a_task_whose_python_worker_died_again(
    write_program, tmp_path: Path, pattern: str
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(KILLER)
    expected = run_script(program, "400", "map")
    out = compile_into(program, tmp_path / "out", pattern, target="spark")
    chaos = tmp_path / "chaos"
    chaos.mkdir()
    got = run_as_user(out / "Main.py", "400", "map", extra={"CHAOS_DIR": str(chaos)})
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout.splitlines() == expected.stdout.splitlines()
    assert sorted(p.name for p in chaos.iterdir()) == ["killed-123", "killed-7"]


def test_spark_gives_up_naming_the_task_and_its_attempts(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(KILLER)
    model_file = tmp_path / "model.toml"
    model_file.write_text("max_attempts = 2\n")
    out = compile_into(program, tmp_path / "out", target="spark", model=load_model(model_file))
    chaos = tmp_path / "chaos"
    chaos.mkdir()
    extra = {"CHAOS_DIR": str(chaos), "CHAOS_EVERY": "1"}
    got = run_as_user(out / "Main.py", "100", "map", extra=extra)
    assert got.returncode == 1
    assert "WorkerLostError" in got.stderr and "lost its Python worker 2 time(s)" in got.stderr
    assert "items 0..99 (kernel work)" in got.stderr and "max_attempts, 2," in got.stderr
    assert "done" not in got.stdout
