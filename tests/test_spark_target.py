"""The spark target: the examples on a real (local-mode) Spark session, failures, streaming,
and a generated program submitted with spark-submit to a real standalone cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toreador.compiler.deploy_model import load_model

from .helpers import (
    EXAMPLES,
    compile_for_session,
    compile_into,
    run_as_user,
    run_in_session,
    run_script,
)
from .test_end_to_end import CASES, reference

PATTERNS = ["auto", "mapreduce", "producer-consumer", "bag-of-tasks"]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_examples_print_what_the_reference_prints(
    name: str, pattern: str, spark_session: object, tmp_path: Path
) -> None:
    expected = reference(name)
    out = compile_for_session(EXAMPLES / name, tmp_path, pattern)
    got = run_in_session(out / "Main.py", *CASES[name])
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode, got.stderr[-3000:]
    if name == "failing_kernel.py":
        assert "ZeroDivisionError" in got.stderr
        assert "failed on item 5: 0" in got.stderr


def test_a_failing_task_names_its_datum_and_function(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import bag_of_task\n"
        "def ok(x):\n    return x\n"
        "def bad(x):\n    raise ValueError(f'no {x}')\n"
        "print(bag_of_task(['a', 'b', 'c'], [ok, bad, ok]))\n"
    )
    out = compile_for_session(program, tmp_path)
    got = run_in_session(out / "Main.py")
    assert got.returncode == 1
    assert "ValueError: no b" in got.stderr
    assert "failed on item 1: 'b' (task 1, bad)" in got.stderr


def test_a_dying_python_worker_fails_the_run_loudly(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "import os\nfrom toreador import data_parallel_region\n"
        "def crash(x):\n    if x == 3:\n        os._exit(9)\n    return x\n"
        "print(data_parallel_region(list(range(8)), crash))\n"
    )
    out = compile_for_session(program, tmp_path)
    got = run_in_session(out / "Main.py")
    assert got.returncode == 1
    # the tests' session (local[2]) allows one attempt: the task is lost at once, named
    assert "WorkerLostError" in got.stderr and "lost its Python worker 1 time(s)" in got.stderr
    assert "items 0..7 (kernel crash)" in got.stderr
    assert got.stdout == ""


def test_an_item_that_cannot_travel_is_named(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "import threading\nfrom toreador import data_parallel_region\n"
        "def name(x):\n    return type(x).__name__\n"
        "print(data_parallel_region([1, 2, threading.Lock()], name))\n"
    )
    out = compile_for_session(program, tmp_path)
    got = run_in_session(out / "Main.py")
    assert got.returncode == 1
    assert "item 2 (<unlocked _thread.lock" in got.stderr
    assert "cannot be sent to a Spark task" in got.stderr


def test_consumers_run_while_the_producer_still_produces(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Each consumer reports how many items the producer had made when it ran: the first
    items are consumed long before the last is produced, and never before their own."""
    counter = tmp_path / "produced.txt"
    program = write_program(
        "import os, sys, time\nfrom toreador import producer_consumer\n"
        f"COUNTER = {str(counter)!r}\n"
        "def numbers(n):\n"
        "    for i in range(n):\n"
        "        with open(COUNTER + '.new', 'w') as f:\n            f.write(str(i + 1))\n"
        "        os.replace(COUNTER + '.new', COUNTER)\n"
        "        time.sleep(0.002)\n"
        "        yield i\n"
        "def consume(i):\n"
        "    with open(COUNTER) as f:\n        return int(f.read())\n"
        "seen = producer_consumer(numbers(int(sys.argv[1])), consume)\n"
        "print(len(seen), seen[0] < 100, all(s > i for i, s in enumerate(seen)))\n"
    )
    out = compile_for_session(program, tmp_path)
    got = run_in_session(out / "Main.py", "1500")
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == "1500 True True\n"


def test_a_failing_producer_still_runs_earlier_items(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import producer_consumer\n"
        "def items():\n    for i in range(5):\n        print('making', i)\n        yield i\n"
        "    raise RuntimeError('producer broke')\n"
        "def show(i):\n    print('got', i)\n    return i\n"
        "producer_consumer(items(), show)\n"
    )
    expected = run_script(program)
    out = compile_for_session(program, tmp_path)
    got = run_in_session(out / "Main.py")
    assert got.stdout == expected.stdout
    assert got.returncode == expected.returncode == 1
    assert "RuntimeError: producer broke" in got.stderr


def test_run_spark_sh_carries_the_model(tmp_path: Path) -> None:
    model = tmp_path / "deploy.toml"
    model.write_text(
        "[spark]\nmaster = 'spark://head:7077'\nexecutors = 3\nexecutor_cores = 2\n"
        "executor_memory = '3g'\ndriver_memory = '2g'\ntask_cpus = 2\n"
    )
    out = compile_into(
        EXAMPLES / "nested.py", tmp_path / "out", target="spark", model=load_model(model)
    )
    script = (out / "run_spark.sh").read_text()
    for expected in (
        "model_master=spark://head:7077",
        "master=${SPARK_MASTER:-$model_master}",
        "--executor-memory 3g",
        "--driver-memory 2g",
        "--executor-cores 2",
        "--num-executors 3",
        "--total-executor-cores 6",
        "--conf spark.task.cpus=2",
        "--conf spark.task.maxFailures=4",
        '--py-files "$py_files"',
    ):
        assert expected in script
    # a local master is written with its task attempts, which local mode needs to retry
    local = compile_into(EXAMPLES / "nested.py", tmp_path / "local", target="spark")
    assert "model_master='local[*,4]'" in (local / "run_spark.sh").read_text()
    assert os.access(out / "run_spark.sh", os.X_OK)
    shared = (out / "nested_shared.py").read_text()
    assert 'master="spark://head:7077"' in shared and "task_cpus=2" in shared
    # the inner level of the nested regions
    assert (out / "toreador_runtime" / "local.py").exists()


# -- a real standalone cluster (the spark_cluster fixture, in conftest.py) ----------------------
def submit(out: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(out / "run_spark.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=out.parent,
        stdin=subprocess.DEVNULL,
    )


def test_two_level_program_on_a_standalone_cluster(
    spark_cluster: dict[str, str], tmp_path: Path
) -> None:
    """spark-submit to the cluster; the outer region's tasks have 2 CPUs each, on which the
    inner regions run with the local engine."""
    model = tmp_path / "deploy.toml"
    model.write_text(
        "[spark]\nexecutors = 1\nexecutor_cores = 2\nexecutor_memory = '1g'\ntask_cpus = 2\n"
    )
    out = compile_into(
        EXAMPLES / "nested.py", tmp_path / "out", target="spark", model=load_model(model)
    )
    got = submit(out, spark_cluster)
    assert got.returncode == 0, got.stderr[-4000:]
    assert got.stdout == reference("nested.py").stdout
    # it ran on the cluster: the worker made a folder for the application's executor
    work = Path(spark_cluster["SPARK_WORKER_DIR"])
    assert any(work.glob("app-*/*/stderr")), "no executor ran on the standalone worker"


def test_inner_regions_use_the_task_cpus_on_the_cluster(
    spark_cluster: dict[str, str], write_program, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Two levels for real: each outer item is a Spark task with 2 CPUs, and its inner region
    runs on 2 processes there (sequentially the count of distinct processes is 1)."""
    program = write_program(
        "import os, time\nfrom toreador import data_parallel_region\n"
        "def inner(x):\n    time.sleep(0.05)\n    return os.getpid()\n"
        "def outer(group):\n    return len(set(data_parallel_region(range(12), inner)))\n"
        "print(data_parallel_region([0, 1], outer))\n"
    )
    assert run_script(program).stdout == "[1, 1]\n"
    model = tmp_path / "deploy.toml"
    model.write_text("[spark]\nexecutors = 1\nexecutor_cores = 2\ntask_cpus = 2\n")
    out = compile_into(program, tmp_path / "out", target="spark", model=load_model(model))
    got = submit(out, spark_cluster)
    assert got.returncode == 0, got.stderr[-4000:]
    assert got.stdout == "[2, 2]\n"


def test_failure_on_the_cluster_names_the_item(
    spark_cluster: dict[str, str], tmp_path: Path
) -> None:
    out = compile_into(EXAMPLES / "failing_kernel.py", tmp_path / "out", target="spark")
    got = submit(out, spark_cluster)
    expected = reference("failing_kernel.py")
    assert got.returncode != 0
    assert got.stdout == expected.stdout
    assert "failed on item 5: 0" in got.stderr


def test_without_pyspark_the_program_says_what_is_missing(tmp_path: Path) -> None:
    """Run with an interpreter that has no PySpark: one clear line, no traceback."""
    bare = [shutil.which("python3") or "python3", "-E", "-s"]
    probe = subprocess.run([*bare, "-c", "import pyspark"], capture_output=True, check=False)
    if probe.returncode == 0:
        pytest.skip("the machine's python3 has PySpark installed")
    out = compile_into(EXAMPLES / "aliases.py", tmp_path / "out", target="spark")
    got = subprocess.run(
        [*bare, str(out / "Main.py")], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert got.returncode == 1
    assert "the spark target needs PySpark" in got.stderr
    assert "Traceback" not in got.stderr


def test_the_programs_own_modules_reach_the_executors(
    write_program, spark_session: object, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A module beside the source is copied into the output folder and shipped with the
    generated ones: kernels that use it, and a class from it, work on the executors."""
    (tmp_path / "spark_sibling_geometry.py").write_text(
        "from dataclasses import dataclass\n"
        "@dataclass(frozen=True)\nclass Box:\n    side: int\n"
        "def area(box):\n    return box.side * box.side\n"
    )
    program = write_program(
        "from toreador import data_parallel_region\n"
        "from spark_sibling_geometry import Box, area\n"
        "def grow(box):\n    return Box(area(box))\n"
        "print(data_parallel_region([Box(n) for n in range(6)], grow))\n",
        "spark_sibling_program.py",
    )
    expected = run_script(program)
    out = compile_into(program, tmp_path / "out", target="spark")
    assert (out / "spark_sibling_geometry.py").exists()
    got = run_in_session(out / "Main.py")
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == expected.stdout
    assert "Box(side=25)" in got.stdout


def test_run_spark_sh_without_spark_submit_says_so(tmp_path: Path) -> None:
    out = compile_into(EXAMPLES / "aliases.py", tmp_path / "out", target="spark")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    got = subprocess.run(
        ["bash", str(out / "run_spark.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert got.returncode == 2
    assert "no spark-submit found: set SPARK_HOME or SPARK_SUBMIT" in got.stderr


@pytest.mark.parametrize("pattern", ["mapreduce", "producer-consumer", "bag-of-tasks"])
@pytest.mark.parametrize("size", [100, 1001])
def test_the_failing_items_position_is_exact(
    write_program, spark_session: object, tmp_path: Path, pattern: str, size: int
) -> None:  # type: ignore[no-untyped-def]
    """Spark cuts a list along pickling batches, not evenly by items: the position named in
    the error is counted from what the tasks returned."""
    failing = size - 9
    program = write_program(
        "import sys\nfrom toreador import data_parallel_region\n"
        f"def check(x):\n    if x == {failing}:\n        raise ValueError(x)\n    return x\n"
        f"data_parallel_region(list(range({size})), check)\n"
    )
    out = compile_for_session(program, tmp_path, pattern)
    got = run_in_session(out / "Main.py")
    assert got.returncode == 1
    assert f"failed on item {failing}: {failing}" in got.stderr


def test_a_pandas_kernel_runs_as_a_user_runs_it(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the venv not activated, no PYSPARK_PYTHON: executors must still run the interpreter of
    # Main.py (its packages), not `python3` from PATH; they report which one they ran
    program = write_program(
        "import sys\nfrom toreador import data_parallel_region\n"
        "def total(n):\n    import pandas as pd\n"
        "    return int(pd.DataFrame({'x': range(n)})['x'].sum()), sys.executable\n"
        "results = data_parallel_region([3, 4, 5], total)\n"
        "print([value for value, _ in results])\n"
        "print(sorted({python for _, python in results}))\n"
    )
    out = compile_into(program, tmp_path / "out", target="spark")
    got = run_as_user(out / "Main.py", cwd=tmp_path)
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == f"[3, 6, 10]\n{[sys.executable]}\n"
