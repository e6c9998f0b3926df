"""Where a region runs on the local target: in place when workers cannot win, in workers
when they can, on kept workers while the state they inherited is the program's.

The programs run as a user runs them (``python OUT/Main.py``); where each region call ran
is read from the ``TOREADOR_TIMINGS`` file the runtime appends to (a documented switch), so
the tests assert the decision, not a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toreador.compiler.deploy_model import DeployModel, load_model
from toreador.runtime.placement import SHARE, Costs

from .helpers import compile_into, run_as_user, run_script

BUSY = """\
import time


def busy(seconds):
    # CPU work (not a sleep): what a kernel's time is made of
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return seconds
"""


def placements(
    program: Path,
    tmp_path: Path,
    *args: str,
    extra: dict[str, str] | None = None,
    target: str = "local",
    model: DeployModel | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    """Compile ``program``, run it as a user with a timings file; check its stdout against
    the sequential run's; return that stdout and each region call's placement event, in
    order, as (event, region label)."""
    expected = run_script(program, *args, env=None if extra is None else _env(extra))
    assert expected.returncode == 0, expected.stderr
    out = compile_into(program, tmp_path / "out", target=target, model=model)
    timings = tmp_path / "timings.txt"
    got = run_as_user(
        out / "Main.py", *args, extra={**(extra or {}), "TOREADOR_TIMINGS": str(timings)}
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected.stdout
    events = [line.split()[1:] for line in timings.read_text().splitlines()]
    placed = [
        (e[0], e[1])
        for e in events
        if e[0] == "in-place" or "workers" in e[0] or e[0].startswith(("job-", "containers-"))
    ]
    return got.stdout, placed


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    return dict(os.environ, **extra)


def test_a_tiny_region_runs_in_place_and_a_big_one_in_workers(
    write_program, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        BUSY + "from toreador import data_parallel_region\n"
        "def double(x):\n    return 2 * x\n"
        "print(sum(data_parallel_region(range(50), double)))\n"
        "print(sum(data_parallel_region([0.02] * 40, busy)))\n"
    )
    _, placed = placements(program, tmp_path)
    labels = sorted({label for _, label in placed})
    tiny, big = labels
    assert placed == [("in-place", tiny), ("new-workers-after-1", big)]


def test_a_region_in_a_loop_forks_once_while_nothing_changes(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # the replicated argument changes every round: it travels to the kept workers each time
    program = write_program(
        BUSY + "from toreador import data_parallel_region\n"
        "def step_busy(seconds, step):\n    return busy(seconds) * 0 + step\n"
        "for step in range(6):\n"
        "    print(sum(data_parallel_region([0.01] * 20, step_busy, step)))\n"
    )
    stdout, placed = placements(program, tmp_path)
    assert [int(float(n)) for n in stdout.split()] == [(20 * step) for step in range(6)]
    events = [event for event, _ in placed]
    assert events == ["new-workers-after-1"] + ["kept-workers-after-0"] * 5


CHANGES = {
    # a module-level name of another module of the program, rebound by the main program
    "module attribute": ("settings.SCALE = step", "settings.SCALE"),
    # what a small module-level list holds, changed in place
    "list item": ("settings.LIMITS[0] = step", "settings.LIMITS[0]"),
    # the environment
    "environment": ("os.environ['SCALE'] = str(step)", "int(os.environ['SCALE'])"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_workers_are_forked_again_when_what_a_kernel_reads_changes(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path, change: str
) -> None:
    setting, reading = CHANGES[change]
    write_program("SCALE = 1\nLIMITS = [1, 2, 3]\n", "settings.py")
    program = write_program(
        BUSY + "import os\nimport settings\nfrom toreador import data_parallel_region\n"
        f"def scaled(seconds):\n    return busy(seconds) * 0 + {reading}\n"
        "for step in range(4):\n"
        f"    {setting}\n"
        "    print(sum(data_parallel_region([0.01] * 20, scaled)))\n"
    )
    stdout, placed = placements(program, tmp_path, extra={"SCALE": "1"})
    assert [int(float(n)) for n in stdout.split()] == [(20 * step) for step in range(4)]
    assert [event for event, _ in placed] == ["new-workers-after-1"] + ["new-workers-after-0"] * 3


def test_in_place_items_print_in_order_and_fail_as_the_reference(
    write_program, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def invert(x):\n    print('inverting', x)\n    return 1 / (x - 3)\n"
        "print(data_parallel_region(range(6), invert))\n"
    )
    expected = run_script(program)
    out = compile_into(program, tmp_path / "out")
    timings = tmp_path / "timings.txt"
    got = run_as_user(out / "Main.py", extra={"TOREADOR_TIMINGS": str(timings)})
    assert (
        (got.returncode, got.stdout)
        == (expected.returncode, expected.stdout)
        == (
            1,
            "inverting 0\ninverting 1\ninverting 2\ninverting 3\n",
        )
    )
    assert "ZeroDivisionError" in got.stderr
    assert "kernel invert of region program.py:5 failed on item 3: 3" in got.stderr
    # ran in the main process: no workers were started (nor a timing of a finished call),
    # only its first result was timed
    events = [line.split()[1] for line in timings.read_text().splitlines()]
    assert events == ["first-result"]


def test_a_generator_goes_to_workers_once_its_items_pay_and_output_keeps_its_order(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    program = write_program(
        BUSY + "from toreador import producer_consumer\n"
        "def readings():\n    for i in range(60):\n"
        "        print('read', i)\n        yield i\n"
        "def analyse(i):\n    busy(0.005)\n    print('analysed', i)\n    return i * i\n"
        "print(sum(producer_consumer(readings(), analyse)))\n"
    )
    _, placed = placements(program, tmp_path)
    [(event, _)] = placed
    assert event.startswith("new-workers-after-")
    assert 1 <= int(event.rsplit("-", 1)[1]) < 60


def test_a_first_call_importing_what_it_needs_is_not_taken_for_the_items_cost(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # the first item imports a module that takes 0.3 s to load; the 50 items are cheap
    write_program("import time\ntime.sleep(0.3)\nFACTOR = 3\n", "slow_to_load.py")
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def triple(x):\n    import slow_to_load\n    return x * slow_to_load.FACTOR\n"
        "print(sum(data_parallel_region(range(50), triple)))\n"
    )
    _, placed = placements(program, tmp_path)
    assert [event for event, _ in placed] == ["in-place"]


@pytest.mark.parametrize(
    ("start", "workers", "left", "per_item", "move", "pays"),
    [
        (0.008, 2, 50, 1e-6, 0.0, False),  # 50 us of work: a fork costs more
        (0.008, 2, 40, 0.02, 0.0, True),  # 0.8 s of work
        (0.0004, 2, 40, 5e-5, 0.0, True),  # 2 ms on kept workers
        (0.0004, 2, 40, 5e-5, 1e-4, False),  # ... whose items cost more to move than to run
        (0.008, 2, 1, 10.0, 0.0, False),  # one item left: nothing to share
    ],
)
def test_the_cost_rule(
    start: float, workers: int, left: int, per_item: float, move: float, pays: bool
) -> None:
    costs = Costs(start, workers, move)
    assert costs.workers_pay(left, per_item, 0.0) is pays
    here = left * per_item
    there = start + here / min(workers, left) + left * move
    assert pays is (left >= 2 and there < SHARE * here)


def test_an_unknown_number_of_items_goes_to_workers_once_it_has_cost_a_start() -> None:
    costs = Costs(0.008, 2)
    assert not costs.workers_pay(None, 1.0, 0.007)
    assert costs.workers_pay(None, 1.0, 0.009)


def test_workers_start_while_a_heavy_first_item_still_runs_here(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # item 0 runs in place (its cost unknown); the workers are forked and sent item 1 while
    # item 0 still runs, instead of after it: the other core is not left idle meanwhile
    program = write_program(
        BUSY + "import os, sys\nfrom toreador import data_parallel_region\n"
        "def timed(seconds):\n    began = time.time()\n    busy(seconds)\n"
        "    return began, time.time(), os.getpid()\n"
        "spans = data_parallel_region([0.4] * 4, timed)\n"
        "if 'sequential' not in sys.argv:\n"
        "    sys.stderr.write(repr(spans))\n"
        "print(len(spans))\n"
    )
    out = compile_into(program, tmp_path / "out")
    got = run_as_user(out / "Main.py")
    assert got.returncode == 0 and got.stdout == "4\n", got.stderr
    spans = eval(got.stderr)  # the program's own repr of its results
    (_, first_end, first_pid), (second_start, _, second_pid) = spans[0], spans[1]
    assert second_pid != first_pid
    assert second_start < first_end - 0.2


def test_no_early_fork_while_a_kernel_holds_a_lock(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # every item runs with a module-level lock held: a worker forked at that moment would
    # inherit it held and wait for it forever; the run must end, with the reference's output
    program = write_program(
        BUSY + "import threading\nfrom toreador import data_parallel_region\n"
        "GUARD = threading.Lock()\n"
        "def guarded(seconds):\n    with GUARD:\n        return busy(seconds)\n"
        "print(sum(data_parallel_region([0.05] * 12, guarded)))\n"
    )
    _, placed = placements(program, tmp_path)  # it ended, printing the reference's sum
    [(event, _)] = placed
    assert event.startswith("new-workers-after-")


def test_kept_workers_serve_another_region_and_large_arguments_are_inherited(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # region two reuses region one's workers (its kernel and small argument travel); a
    # replicated argument over the 1 MB a kept worker is sent makes the call fork workers
    # that inherit it, and it still reaches every item whole
    program = write_program(
        BUSY + "from toreador import data_parallel_region\n"
        "def first(seconds):\n    return busy(seconds) * 0 + 1\n"
        "def second(seconds, tag):\n    return busy(seconds) * 0 + len(tag)\n"
        "def third(seconds, blob):\n    return busy(seconds) * 0 + blob[-1] + len(blob)\n"
        "print(sum(data_parallel_region([0.01] * 20, first)))\n"
        "print(sum(data_parallel_region([0.01] * 20, second, 'abc')))\n"
        "print(sum(data_parallel_region([0.01] * 20, third, bytes(3_000_000) + b'\\x07')))\n"
    )
    stdout, placed = placements(program, tmp_path)
    assert [float(n) for n in stdout.split()] == [20.0, 60.0, 20 * 3_000_008.0]
    events = [event for event, _ in placed]
    assert events[0] == "new-workers-after-1"
    assert events[1].startswith("kept-workers-after-")
    assert events[2].startswith("new-workers-after-")


def small_loop_then_big(big_items: str) -> str:
    """A program calling a 20-item region of no work 30 times, then one region of
    ``big_items`` (seconds of busy work each)."""
    return (
        BUSY + "from toreador import data_parallel_region\n"
        "def double(x):\n    return 2 * x\n"
        "for step in range(30):\n"
        "    total = sum(data_parallel_region(range(20), double))\n"
        "print(total)\n"
        f"print(sum(data_parallel_region({big_items}, busy)))\n"
    )


def test_without_hadoop_a_small_region_in_a_loop_runs_in_main_and_a_big_one_as_a_job(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # the local streaming runner starts processes for every job: 0.15-0.2 s here
    program = write_program(small_loop_then_big("[0.05] * 16"))
    _, placed = placements(program, tmp_path, target="hadoop", extra={"HADOOP_HOME": ""})
    labels = sorted({label for _, label in placed})
    small, big = labels
    assert placed == [("in-place", small)] * 30 + [("job-after-1", big)]


def test_without_hadoop_a_kernel_a_job_could_not_be_sent_is_refused_even_in_place(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    # the program must not run without Hadoop and fail with it
    program = write_program(
        "import threading\nfrom toreador import data_parallel_region\n"
        "def locked(x, lock):\n    return x\n"
        "print(data_parallel_region([1, 2], locked, threading.Lock()))\n"
    )
    out = compile_into(program, tmp_path / "out", target="hadoop")
    got = run_as_user(out / "Main.py", extra={"HADOOP_HOME": ""})
    assert got.returncode == 1 and got.stdout == ""
    assert "cannot be sent to Hadoop tasks" in got.stderr


def test_on_docker_a_small_region_in_a_loop_runs_in_main_and_a_big_one_in_the_containers(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path, docker_engine: dict[str, str]
) -> None:
    # the worker group costs about 1 s to start: a region holding a few seconds of work
    # goes to it after its first item, the small ones before it never start it
    program = write_program(small_loop_then_big("[0.1] * 50"))
    model_file = tmp_path / "deploy.toml"
    model_file.write_text(
        '[docker]\nbase_image = "toreador-base:test"\nredis_image = "toreador-base:test"\n'
    )
    engine = {name: docker_engine[name] for name in ("DOCKER_HOST", "TOREADOR_WHEELHOUSE")}
    _, placed = placements(
        program, tmp_path, target="docker", extra=engine, model=load_model(model_file)
    )
    labels = sorted({label for _, label in placed})
    small, big = labels
    assert placed == [("in-place", small)] * 30 + [("containers-after-1", big)]
