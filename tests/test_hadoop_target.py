"""The hadoop target: the line protocol, the generated Mapper.py and Reducer.py as streaming
programs, and the local streaming runner (several reducers, order, failures)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toreador.compiler.deploy_model import load_model

from .helpers import EXAMPLES, compile_into, in_workers, run_script

ITEMS = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), st.binary()
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def hadoop_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_into(
        EXAMPLES / "tricky_strings.py", tmp_path_factory.mktemp("hadoop") / "out", target="hadoop"
    )


@pytest.fixture(scope="module")
def protocol() -> Any:
    """The line protocol, tested in place (the generated folder holds a copy of it)."""
    from toreador.runtime import hadoop_streaming

    return hadoop_streaming


def outcome_of(out: Path, value: str) -> Any:
    """A mapper's outcome, read with the generated folder's copy of the runtime (whose
    classes it names)."""
    from toreador.runtime import hadoop_streaming as protocol

    sys.path.insert(0, str(out))
    try:
        return protocol.decode(value)
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.startswith("toreador_runtime")]:
            del sys.modules[name]


@settings(max_examples=200, deadline=None)
@given(items=st.lists(ITEMS, max_size=20), first=st.integers(0, 10**9))
def test_line_protocol_survives_any_item(protocol: Any, items: list[Any], first: int) -> None:
    lines = [protocol.record(first + position, item) for position, item in enumerate(items)]
    lines += list(protocol.batch_records(first + len(items), items or [None]))
    assert all(line.count("\n") == 1 and line.count("\t") == 1 for line in lines)
    assert lines[: len(items)] == sorted(lines[: len(items)])  # text order of keys = input order
    decoded = [protocol.decode(value) for _, value in protocol.read_records(lines)]
    assert decoded == [*items, items or [None]]


def test_large_batches_are_split_into_records_that_fit(protocol: Any) -> None:
    items = [b"x" * 1_000_000 for _ in range(10)]
    lines = list(protocol.batch_records(7, items))
    assert len(lines) > 1
    keys = [int(line.partition("\t")[0]) for line in lines]
    assert keys[0] == 7 and keys == sorted(keys)
    assert [x for line in lines for x in protocol.decode(line.partition("\t")[2])] == items


def test_keys_sort_as_positions(protocol: Any) -> None:
    keys = [protocol.key_of(n) for n in (0, 9, 10, 99, 100, 123_456_789)]
    assert sorted(keys) == keys


def test_mapper_and_reducer_are_streaming_programs(
    hadoop_out: Path, protocol: Any, tmp_path: Path
) -> None:
    job = tmp_path / "job.txt"
    # the job as the hadoop engine writes it: the kernel, its arguments, the program's argv
    from toreador.runtime.travel import dumps, with_process

    payload = with_process(dumps((repr, (), "test")))
    job.write_text(base64.b64encode(payload).decode("ascii") + "\n")
    lines = "".join(protocol.batch_records(0, ["a\tb", "c\nd"]))
    lines += "".join(protocol.batch_records(2, ["\x00"]))
    mapped = subprocess.run(
        [sys.executable, str(hadoop_out / "Mapper.py")],
        input=lines,
        capture_output=True,
        text=True,
        check=True,
        env={"TOREADOR_JOB": str(job), "PATH": "/usr/bin:/bin"},
    )
    records = list(protocol.read_records(mapped.stdout.splitlines()))
    assert [key for key, _ in records] == ["000000000000", "000000000002"]
    outcomes = [outcome_of(hadoop_out, value) for _, value in records]
    assert [(type(o).__name__, o.values, o.printed) for o in outcomes] == [
        ("Done", ["'a\\tb'", "'c\\nd'"], {}),
        ("Done", ["'\\x00'"], {}),
    ]
    reduced = subprocess.run(
        [sys.executable, str(hadoop_out / "Reducer.py")],
        input=mapped.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    assert reduced.stdout == mapped.stdout
    unsorted = "".join(reversed(mapped.stdout.splitlines(keepends=True)))
    refused = subprocess.run(
        [sys.executable, str(hadoop_out / "Reducer.py")],
        input=unsorted,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0 and "not sorted or duplicated" in refused.stderr


def test_several_reducers_keep_input_order(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def square(x):\n    return x * x\n"
        "print(data_parallel_region(list(range(5000)), square) == "
        "[x * x for x in range(5000)])\n"
    )
    model = tmp_path / "m.toml"
    model.write_text('[local]\nworkers = 3\n[hadoop]\nreducers = 4\nplacement = "workers"\n')
    out = compile_into(program, tmp_path / "out", target="hadoop", model=load_model(model))
    got = run_script(out / "Main.py")
    assert got.stdout == "True\n", got.stderr
    assert "running Mapper.py and Reducer.py with the local streaming runner" in got.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["patterns"] == ["mapreduce"] and manifest["target"] == "hadoop"
    region_line = (out / "program_shared.py").read_text()
    assert "reducers=4" in region_line


def test_deployment_script_is_valid_bash(hadoop_out: Path) -> None:
    script = hadoop_out / "run_hadoop.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    text = script.read_text()
    assert "-D mapreduce.job.reduces=2" in text and '-mapper "$python Mapper.py"' in text
    assert "\npython=python3\n" in text


def test_a_local_lambda_travels_by_value_and_what_cannot_travel_is_refused_clearly(  # type: ignore[no-untyped-def]
    write_program, tmp_path: Path
) -> None:
    program = write_program(
        "import threading\n"
        "from toreador import data_parallel_region\n"
        "def main(k):\n    f = (lambda x: x + k) if k else str\n"
        "    print(data_parallel_region([1, 2], f))\n"
        "    lock = threading.Lock()\n"
        "    print(data_parallel_region([1, 2], lambda x, held: x, lock))\n"
        "main(1)\n"
    )
    got = run_script(
        compile_into(program, tmp_path / "out", target="hadoop", model=in_workers()) / "Main.py"
    )
    assert got.returncode == 1
    assert got.stdout == "[2, 3]\n"  # pickle cannot name the lambda; cloudpickle sends it
    assert "cannot be sent to Hadoop tasks: cannot pickle '_thread.lock' object" in got.stderr


REAL_FRAMEWORK_CASES = {
    "aliases.py": [],
    "kernel_after_use.py": ["12"],
    "constants_classes.py": [],
    "dataclass_items.py": [],
    "tricky_strings.py": [],
    "generator_producer.py": ["300"],
    "replicated.py": [],
    "nested.py": [],
    "failing_kernel.py": [],
    "many_tiny.py": ["20000"],
    "few_heavy.py": ["4", "20000"],
    "lambdas.py": [],
    "no_region.py": ["x"],
}


@pytest.mark.parametrize("name", sorted(REAL_FRAMEWORK_CASES))
def test_examples_on_the_real_mapreduce_framework(
    name: str, hadoop_home: dict[str, str], tmp_path: Path
) -> None:
    arguments = REAL_FRAMEWORK_CASES[name]
    expected = run_script(EXAMPLES / name, *arguments)
    out = compile_into(EXAMPLES / name, tmp_path / "out", target="hadoop")
    got = subprocess.run(
        [sys.executable, str(out / "Main.py"), *arguments],
        cwd=tmp_path,
        env=hadoop_home,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert got.stdout == expected.stdout, got.stderr[-3000:]
    assert got.returncode == expected.returncode
    if name != "no_region.py":
        assert "hadoop-streaming-toreador.jar -D mapreduce.job.reduces=2" in got.stderr
        assert (tmp_path / "toreador-output" / "_SUCCESS").exists()
        assert len(list((tmp_path / "toreador-output").glob("part-r-*"))) == 2
        assert "local streaming runner" not in got.stderr


def test_run_hadoop_sh_runs_the_job_on_the_real_framework(
    hadoop_home: dict[str, str],
    write_program,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    program = write_program(
        "from toreador import data_parallel_region\n"
        "def shout(word):\n    return word.upper() + '\\t!'\n"
        "print(data_parallel_region(['a', 'b\\nc', 'ü'], shout))\n"
    )
    out = compile_into(program, tmp_path / "out", target="hadoop")
    kept = subprocess.run(
        [sys.executable, str(out / "Main.py")],
        capture_output=True,
        text=True,
        check=True,
        env={**hadoop_home, "HADOOP_HOME": "", "TOREADOR_KEEP": "1"},
    )
    folder = kept.stderr.split("job folder kept in ")[1].split(" ")[0]
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    home = Path(hadoop_home["HADOOP_HOME"])
    jar = next((home / "share" / "hadoop" / "tools" / "lib").glob("*.jar"))
    ran = subprocess.run(
        ["bash", str(out / "run_hadoop.sh"), folder],
        cwd=tmp_path,
        env={**hadoop_home, "HADOOP": str(home / "bin" / "hadoop"), "STREAMING_JAR": str(jar)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    from toreador.runtime import hadoop_streaming as protocol

    outcomes = sorted(protocol.read_records(ran.stdout.splitlines()))
    values = [v for _, value in outcomes for v in outcome_of(out, value).values]
    assert values == ["A\t!", "B\nC\t!", "Ü\t!"]


def test_an_endless_producer_streams_in_rounds(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the reference raises on item 7 of an endless generator; the job folder once grew by
    # more than a gigabyte a minute before any mapper ran
    program = write_program(
        "import itertools\nfrom toreador import producer_consumer\n"
        "def check(x):\n    if x == 7:\n        raise ValueError(f'bad {x}')\n"
        "    print('ok', x)\n    return x\n"
        "print(producer_consumer(itertools.count(), check))\n"
    )
    expected = run_script(program)
    out = compile_into(program, tmp_path / "out", target="hadoop")
    before = set(Path(tempfile.gettempdir()).glob("toreador-hadoop-*"))
    got = run_script(out / "Main.py", timeout=120)
    assert (got.stdout, got.returncode) == (expected.stdout, 1)
    assert "ValueError: bad 7" in got.stderr and "failed on item 7: 7" in got.stderr
    assert set(Path(tempfile.gettempdir()).glob("toreador-hadoop-*")) <= before  # removed


def test_a_generator_longer_than_a_round_gives_every_item(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    program = write_program(
        "from toreador import producer_consumer\n"
        "def numbers(n):\n    for i in range(n):\n"
        "        if i % 5000 == 0:\n            print('producing', i)\n        yield i\n"
        "def square(x):\n    return x * x\n"
        "print(sum(producer_consumer(numbers(23456), square)))\n"
    )
    expected = run_script(program)
    out = compile_into(program, tmp_path / "out", target="hadoop")
    got = run_script(out / "Main.py", timeout=300)
    assert (got.stdout, got.returncode) == (expected.stdout, 0), got.stderr[-2000:]


def test_ctrl_c_removes_the_job_folder(write_program, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import time

    import psutil

    program = write_program(
        "import itertools, time\nfrom toreador import producer_consumer\n"
        "def slow(x):\n    time.sleep(0.05)\n    return x\n"
        "print(producer_consumer(itertools.count(), slow))\n"
    )
    out = compile_into(program, tmp_path / "out", target="hadoop")
    before = set(Path(tempfile.gettempdir()).glob("toreador-hadoop-*"))
    process = subprocess.Popen(
        [sys.executable, str(out / "Main.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not psutil.Process(process.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)  # the first round's mappers are running
    assert set(Path(tempfile.gettempdir()).glob("toreador-hadoop-*")) - before
    mappers = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode != 0 and stdout == ""
    assert "KeyboardInterrupt" in stderr
    _, alive = psutil.wait_procs(mappers, timeout=10)
    assert not alive
    assert set(Path(tempfile.gettempdir()).glob("toreador-hadoop-*")) <= before
