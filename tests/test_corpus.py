"""A corpus of programs in the style people write when they parallelise with a pool (partials,
bound methods, kernels passed by value, dict and DataFrame items, a generator over a file,
argparse, prints in kernels, an expected exception), each compiled for every target and run
as a user runs it (tests/helpers.run_as_user), compared with the sequential program: stdout,
exit status and, for a program that fails, the exception line its stderr ends with. A new
difference between a compiled program and its reference shows up here as a failing case.

kernel_forms.py is the table of the ways a kernel reaches a region: a parameter, a local
variable, an attribute, an item, a partial in a local, a bound method, a staticmethod and a
classmethod, a callable instance, a function from the program's own sibling module, and
functions in a bag of tasks. Each prints one line, so a failure names its form."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import docker_leftovers
from .helpers import compile_into, in_workers, run_as_user, user_env
from .test_docker_target import docker_model

CORPUS = Path(__file__).resolve().parent / "corpus"
PATTERNS = ["auto", "mapreduce", "producer-consumer", "bag-of-tasks"]
TEXT = (
    "The quick brown fox jumps over the lazy dog. The dog, surprised, barks!\n"
    "A fox is quick; a dog is lazy? Not always: some dogs run faster than foxes.\n"
    "Counting words (in parallel) is the hello world of map and reduce.\n"
)


def arguments(name: str, folder: Path) -> list[str]:
    if name == "word_count.py":
        text = folder / "text.txt"
        text.write_text(TEXT * 40, encoding="utf-8")
        return [str(text), "--chunk", "7"]
    if name == "monte_carlo.py":
        return ["6"]
    if name == "threshold.py":
        return ["0.45", "sensor"]
    if name == "file_stats.py":
        texts = folder / "texts"
        texts.mkdir(exist_ok=True)
        for number in range(5):
            (texts / f"part{number}.txt").write_text(TEXT * (number + 1), encoding="utf-8")
        return [str(texts)]
    return []


# what a user sets in the shell that runs a program (and its reference)
ENVIRONMENT = {"loan_schedules.py": {"LOAN_SCALE": "3"}}

# programs that fail as the sequential run does: the line its exception ends with
FAILING = {"bad_rows.py": "ValueError: could not convert string to float: 'oops'"}
PROGRAMS = sorted(p.name for p in CORPUS.glob("*.py") if p.name != "corpus_helpers.py")


@functools.cache
def reference(name: str, folder: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(CORPUS / name), *arguments(name, folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env=user_env(ENVIRONMENT.get(name)),
        check=False,
    )
    assert done.returncode == (1 if name in FAILING else 0), done.stderr
    return done


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus-data")


def check(name: str, got: subprocess.CompletedProcess[str], data_folder: Path) -> None:
    expected = reference(name, data_folder)
    assert got.returncode == expected.returncode, got.stderr[-4000:]
    if expected.returncode != 0:  # the kernel's own exception line, raised in Main.py
        last = expected.stderr.strip().splitlines()[-1]
        assert last == FAILING[name]
        assert last in got.stderr.splitlines(), got.stderr[-4000:]
    for want, have in zip(expected.stdout.splitlines(), got.stdout.splitlines(), strict=False):
        assert have == want  # one line per kernel form in kernel_forms.py: names the form
    assert got.stdout == expected.stdout


def run_program(
    name: str,
    out: Path,
    data_folder: Path,
    extra: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``out``'s Main.py run as a user runs it, with what the user set for ``name``."""
    env = dict(ENVIRONMENT.get(name, {}), **(extra or {}))
    return run_as_user(out / "Main.py", *arguments(name, data_folder), cwd=cwd, extra=env)


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("name", PROGRAMS)
def test_local(name: str, pattern: str, tmp_path: Path, data_folder: Path) -> None:
    # in forked workers, however little work a region holds (else these small programs
    # would run in place, and the workers' side would go untested)
    out = compile_into(CORPUS / name, tmp_path / "out", pattern, "local", in_workers())
    check(name, run_program(name, out, data_folder), data_folder)


@pytest.mark.parametrize("name", PROGRAMS)
def test_hadoop_streaming_runner(name: str, tmp_path: Path, data_folder: Path) -> None:
    # every region a job (the program's process state must reach the streaming tasks),
    # however little work it holds
    out = compile_into(CORPUS / name, tmp_path / "out", "auto", "hadoop", in_workers())
    check(name, run_program(name, out, data_folder), data_folder)


@pytest.mark.parametrize(
    "name", ["kernel_forms.py", "word_count.py", "file_stats.py", "vendored.py"]
)
def test_hadoop_real_framework(
    name: str, hadoop_home: dict[str, str], tmp_path: Path, data_folder: Path
) -> None:
    out = compile_into(CORPUS / name, tmp_path / "out", "auto", "hadoop")
    got = run_program(name, out, data_folder, hadoop_home, cwd=tmp_path)
    assert "local streaming runner" not in got.stderr  # the real framework ran the jobs
    check(name, got, data_folder)


@pytest.mark.parametrize("name", PROGRAMS)
def test_spark(name: str, tmp_path: Path, data_folder: Path) -> None:
    pytest.importorskip("pyspark")
    out = compile_into(CORPUS / name, tmp_path / "out", "auto", "spark")
    check(name, run_program(name, out, data_folder), data_folder)


@pytest.mark.parametrize("name", PROGRAMS)
def test_docker(
    name: str, docker_engine: dict[str, str], tmp_path: Path, data_folder: Path
) -> None:
    model = docker_model(tmp_path)
    out = compile_into(CORPUS / name, tmp_path / "out", "auto", "docker", model)
    extra = {k: docker_engine[k] for k in ("DOCKER_HOST", "TOREADOR_WHEELHOUSE")}
    check(name, run_program(name, out, data_folder, extra), data_folder)
    assert docker_leftovers() == []
