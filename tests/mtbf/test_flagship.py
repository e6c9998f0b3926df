"""The annotated flagship: sequential run == `analyse`; compiled for every pattern on the
local target, it prints the same report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mtbf_example.generate import generate
from tests.helpers import (
    ROOT,
    compile_for_session,
    compile_into,
    run_as_user,
    run_in_session,
    run_script,
)

from .helpers import run_module

FLAGSHIP = ROOT / "mtbf_example" / "mtbf.py"
ARGUMENT_SETS = [
    [],
    ["--verbose", "--start", "2017-06-02T00:00:00Z"],
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flagship")
    list(generate(folder / "homes.parquet", homes=5, days=3, seed=3))
    return folder / "homes.parquet"


@pytest.mark.parametrize("arguments", ARGUMENT_SETS, ids=["plain", "verbose-period"])
def test_sequential_flagship_prints_the_analyse_report(data: Path, arguments: list[str]) -> None:
    flagship = run_script(FLAGSHIP, str(data), *arguments)
    analyse = run_module("analyse", str(data), *arguments)
    assert flagship.returncode == analyse.returncode == 0, flagship.stderr
    assert flagship.stdout == analyse.stdout
    assert flagship.stdout.count("For Gateway") == 5


@pytest.mark.parametrize(
    ("target", "pattern"),
    [
        ("local", "auto"),
        ("local", "mapreduce"),
        ("local", "producer-consumer"),
        ("local", "bag-of-tasks"),
        ("hadoop", "auto"),
    ],
)
def test_compiled_flagship_prints_the_same_report(
    data: Path, target: str, pattern: str, tmp_path: Path
) -> None:
    out = compile_into(FLAGSHIP, tmp_path / "out", pattern, target)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(r["primitive"], r["nested"]) for r in manifest["regions"]] == [
        ("producer_consumer", True),
        ("bag_of_task", True),
        ("data_parallel_region", False),
    ]
    for arguments in ARGUMENT_SETS:
        reference = run_script(FLAGSHIP, str(data), *arguments, "--json", str(tmp_path / "a"))
        compiled = run_script(out / "Main.py", str(data), *arguments, "--json", str(tmp_path / "b"))
        assert compiled.returncode == reference.returncode == 0, compiled.stderr
        assert compiled.stdout == reference.stdout
        assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text()


@pytest.mark.parametrize("pattern", ["auto", "mapreduce", "producer-consumer", "bag-of-tasks"])
def test_flagship_on_spark_prints_the_same_report(
    data: Path, pattern: str, spark_session: object, tmp_path: Path
) -> None:
    out = compile_for_session(FLAGSHIP, tmp_path, pattern, "spark")
    for arguments in ARGUMENT_SETS:
        reference = run_script(FLAGSHIP, str(data), *arguments, "--json", str(tmp_path / "a"))
        compiled = run_in_session(
            out / "Main.py", str(data), *arguments, "--json", str(tmp_path / "b")
        )
        assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
        assert compiled.stdout == reference.stdout
        assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text()


def test_flagship_on_spark_as_a_user_runs_it(data: Path, tmp_path: Path) -> None:
    """`.venv/bin/python OUT/Main.py DATA` from a shell without the venv activated, with no
    Spark variable set: its own JVM, and executors that must import the flagship's package
    (they once started `python3` from PATH, without it)."""
    pytest.importorskip("pyspark")
    out = compile_into(FLAGSHIP, tmp_path / "out", "auto", "spark")
    for arguments in ARGUMENT_SETS:
        reference = run_script(FLAGSHIP, str(data), *arguments)
        compiled = run_as_user(out / "Main.py", str(data), *arguments, cwd=tmp_path)
        assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
        assert compiled.stdout == reference.stdout


def test_flagship_errors_match(data: Path, tmp_path: Path) -> None:
    out = compile_into(FLAGSHIP, tmp_path / "out")
    for arguments in (["--gateway", "NOPE"], [str(tmp_path / "missing.csv")]):
        target = [] if arguments[0].endswith(".csv") else [str(data)]
        reference = run_script(FLAGSHIP, *target, *arguments)
        compiled = run_script(out / "Main.py", *target, *arguments)
        assert reference.returncode == compiled.returncode == 2
        assert reference.stderr == compiled.stderr
        assert reference.stderr.startswith("error: ")


def test_flagship_on_the_real_mapreduce_framework(
    data: Path, hadoop_home: dict[str, str], tmp_path: Path
) -> None:
    import subprocess
    import sys

    from toreador.compiler.deploy_model import load_model

    model = tmp_path / "deploy.toml"
    model.write_text(f"[hadoop]\npython = {sys.executable!r}\nreducers = 2\n")
    out = compile_into(FLAGSHIP, tmp_path / "out", target="hadoop", model=load_model(model))
    reference = run_script(FLAGSHIP, str(data), "--verbose")
    got = subprocess.run(
        [sys.executable, str(out / "Main.py"), str(data), "--verbose"],
        cwd=tmp_path,
        env=hadoop_home,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == reference.stdout
    assert "hadoop-streaming-toreador.jar" in got.stderr
    assert (tmp_path / "toreador-output" / "_SUCCESS").exists()


def test_flagship_submitted_to_a_standalone_cluster(
    data: Path, spark_cluster: dict[str, str], tmp_path: Path
) -> None:
    """run_spark.sh submits the compiled flagship to a real master and worker: gateways are
    Spark tasks with 2 CPUs each, and each gateway's stream and bag run on those CPUs."""
    import subprocess

    from toreador.compiler.deploy_model import load_model

    model = tmp_path / "deploy.toml"
    model.write_text("[spark]\nexecutors = 1\nexecutor_cores = 2\ntask_cpus = 2\n")
    out = compile_into(FLAGSHIP, tmp_path / "out", target="spark", model=load_model(model))
    reference = run_script(FLAGSHIP, str(data), "--verbose")
    applications = set(Path(spark_cluster["SPARK_WORKER_DIR"]).glob("app-*"))
    got = subprocess.run(
        ["bash", str(out / "run_spark.sh"), str(data), "--verbose"],
        env=spark_cluster,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert got.returncode == 0, got.stderr[-3000:]
    assert got.stdout == reference.stdout
    # it ran on the cluster, not in local mode: the worker holds one more application
    assert len(set(Path(spark_cluster["SPARK_WORKER_DIR"]).glob("app-*")) - applications) == 1


@pytest.mark.parametrize("pattern", ["auto", "mapreduce", "producer-consumer", "bag-of-tasks"])
def test_flagship_on_docker_prints_the_same_report(
    data: Path, pattern: str, docker_engine: dict[str, str], tmp_path: Path
) -> None:
    """In real containers: one per gateway (the outer region), each running its gateway's
    stream and bag of tasks; nothing is left on the engine afterwards."""
    from tests.conftest import docker_leftovers
    from tests.test_docker_target import docker_model

    model = docker_model(tmp_path)
    out = compile_into(FLAGSHIP, tmp_path / "out", pattern, "docker", model)
    for arguments in ARGUMENT_SETS:
        reference = run_script(FLAGSHIP, str(data), *arguments, "--json", str(tmp_path / "a"))
        compiled = run_script(
            out / "Main.py", str(data), *arguments, "--json", str(tmp_path / "b"), env=docker_engine
        )
        assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
        assert compiled.stdout == reference.stdout
        assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text()
        assert docker_leftovers() == []
