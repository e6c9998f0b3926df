"""The annotated flagship: sequential run == `analyse`; compiled for every target and
pattern, it prints the same report, each gateway's readings fetched by its own worker from a
partitioned data set or through the REST data service."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
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

from .helpers import run_module, serving

FLAGSHIP = ROOT / "mtbf_example" / "mtbf.py"
ARGUMENT_SETS = [
    [],
    ["--verbose", "--start", "2017-06-02T00:00:00Z"],
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data set partitioned by gateway: each worker reads its own gateway's folder."""
    folder = tmp_path_factory.mktemp("flagship")
    list(generate(folder / "homes", homes=5, days=3, seed=3))
    return folder / "homes"


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same homes in one Parquet file: the main program reads it whole."""
    folder = tmp_path_factory.mktemp("flagship-file")
    list(generate(folder / "homes.parquet", homes=5, days=3, seed=3))
    return folder / "homes.parquet"


@pytest.fixture(scope="module")
def service(data: Path) -> Iterator[str]:
    """The REST data service over the data set, on 127.0.0.1."""
    with serving(data) as url:
        yield url


def test_every_source_gives_the_same_report(data: Path, single_file: Path, service: str) -> None:
    """The data set, the single file and the service: one report, the `analyse` one."""
    for arguments in ARGUMENT_SETS:
        expected = run_module("analyse", str(single_file), *arguments).stdout
        assert expected.count("For Gateway") == 5
        for source in ([str(data)], [str(single_file)], ["--api", service]):
            got = run_script(FLAGSHIP, *source, *arguments)
            assert got.returncode == 0, got.stderr
            assert got.stdout == expected


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


@pytest.mark.parametrize("target", ["local", "hadoop"])
def test_compiled_flagship_reads_a_single_file_and_the_service(
    single_file: Path, service: str, target: str, tmp_path: Path
) -> None:
    out = compile_into(FLAGSHIP, tmp_path / "out", "auto", target)
    for source in ([str(single_file)], ["--api", service]):
        reference = run_script(FLAGSHIP, *source, "--verbose")
        compiled = run_script(out / "Main.py", *source, "--verbose")
        assert compiled.returncode == reference.returncode == 0, compiled.stderr
        assert compiled.stdout == reference.stdout


def test_flagship_on_spark_fetches_through_the_service(
    service: str, spark_session: object, tmp_path: Path
) -> None:
    out = compile_for_session(FLAGSHIP, tmp_path, "auto", "spark")
    reference = run_script(FLAGSHIP, "--api", service, "--verbose")
    compiled = run_in_session(out / "Main.py", "--api", service, "--verbose")
    assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
    assert compiled.stdout == reference.stdout


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


def test_flagship_on_docker_fetches_through_the_service(
    service: str, docker_engine: dict[str, str], tmp_path: Path
) -> None:
    """Each gateway's container calls the service itself: the host's network (the service
    is on its loopback), nothing of the data sent by Main.py."""
    from tests.test_docker_target import docker_model

    model = docker_model(tmp_path, 'network_mode = "host"\n')
    out = compile_into(FLAGSHIP, tmp_path / "out", "auto", "docker", model)
    reference = run_script(FLAGSHIP, "--api", service, "--verbose")
    compiled = run_script(out / "Main.py", "--api", service, "--verbose", env=docker_engine)
    assert compiled.returncode == reference.returncode == 0, compiled.stderr[-3000:]
    assert compiled.stdout == reference.stdout
