"""A batch that cannot even be loaded where it is to run is the program's failure, said at
once with the worker's own error; never a lost worker tried again (the next attempt would
fail the same way). Items here can only be unpickled by the process that made them, as a
handle on an open resource would be: every engine whose workers do not fork from the main
program meets that when it loads the batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import docker_leftovers
from .helpers import compile_into, in_workers, run_as_user
from .test_docker_target import docker_model

PROGRAM = """\
import os
from toreador import data_parallel_region


class Handle:
    def __init__(self, name):
        self.name, self.opened_by = name, os.getpid()

    def __setstate__(self, state):
        if state["opened_by"] != os.getpid():
            raise RuntimeError(f"handle {state['name']} was opened by another process")
        self.__dict__.update(state)


def size(handle):
    return len(handle.name)


print(data_parallel_region([Handle("a"), Handle("bb")], size))
"""


def check(got: Any, where: str) -> None:
    assert got.returncode == 1, got.stderr[-3000:]
    assert got.stdout == ""
    lines = got.stderr.strip().splitlines()
    assert lines[-1] == "RuntimeError: handle a was opened by another process", lines[-20:]
    assert f"failed on item 0: a batch of its item(s) that could not be loaded in {where}" in (
        got.stderr
    )
    assert "lost its process" not in got.stderr  # not taken for a dead worker, not retried


def test_hadoop(write_program: Any, tmp_path: Path) -> None:
    out = compile_into(write_program(PROGRAM), tmp_path / "out", "auto", "hadoop", in_workers())
    check(run_as_user(out / "Main.py"), "the Hadoop task")


def test_spark(write_program: Any, tmp_path: Path) -> None:
    pytest.importorskip("pyspark")
    out = compile_into(write_program(PROGRAM), tmp_path / "out", "auto", "spark")
    got = run_as_user(out / "Main.py")
    check(got, "the Spark task")
    assert "Lost task" not in got.stderr  # Spark did not try the task again


def test_docker(write_program: Any, docker_engine: dict[str, str], tmp_path: Path) -> None:
    model = docker_model(tmp_path)
    out = compile_into(write_program(PROGRAM), tmp_path / "out", "auto", "docker", model)
    extra = {k: docker_engine[k] for k in ("DOCKER_HOST", "TOREADOR_WHEELHOUSE")}
    check(run_as_user(out / "Main.py", extra=extra), "the worker container")
    assert docker_leftovers() == []
