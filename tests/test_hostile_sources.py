"""Sources made to break the compiler: each is compiled (and its Main.py prints what CPython
runs it to print) or refused with a located message and exit 2, in bounded time; never a
traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .helpers import run_as_user, run_cli

REGION = "from toreador import data_parallel_region\n\n"

DEEP = {
    "nested_calls.py": (
        REGION + "def g(x):\n    return x\n\n\ndef k(x):\n    return "
        + "g(" * 150 + "x" + ")" * 150 + "\n\n\nprint(data_parallel_region([1, 2, 3], k))\n"
    ),
    "nested_brackets.py": (
        REGION + "def k(x):\n    return len(str(" + "[" * 140 + "x" + "]" * 140 + "))\n\n\n"
        "print(data_parallel_region([1, 22, 333], k))\n"
    ),
    "adjacent_strings.py": (
        REGION + "TEXT = (" + " ".join(f'"s{i}"' for i in range(500)) + ")\n\n\n"
        "def k(x):\n    return TEXT[x]\n\n\nprint(data_parallel_region([0, 5, 9], k))\n"
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_programs_cpython_runs_compile_and_print_the_same(tmp_path: Path, name: str) -> None:
    program = tmp_path / name
    program.write_text(DEEP[name])
    reference = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, check=True
    )
    out = tmp_path / "out"
    done = run_cli(str(program), "--target", "local", "-o", str(out))
    assert done.returncode == 0, done.stderr
    ran = run_as_user(out / "Main.py")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == reference.stdout != ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"# coding: undefined\nprint(1)\n",
            "bad.py:1:1: error: cannot decode file: the coding cookie names 'undefined'",
        ),
        (b"# -*- coding: klingon -*-\nprint(1)\n", "bad.py:1:1: error: cannot decode file"),
        (b"x = 1\nprint(1)\x00\n", "bad.py:2:9: error: syntax error: source code string"),
        (
            b"x = 1\nprint('caf\xe9')\n",
            "bad.py:2:11: error: cannot decode file: invalid continuation byte: byte 0xe9",
        ),
        (b"def f(:\n    pass\n", "bad.py:1:7: error: syntax error: invalid syntax"),
    ],
)
def test_an_unreadable_source_is_located_and_exit_2(
    tmp_path: Path, raw: bytes, expected: str
) -> None:
    program = tmp_path / "bad.py"
    program.write_bytes(raw)
    done = run_cli("bad.py", "--target", "local", "-o", "out", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(expected), done.stderr
    assert "Traceback" not in done.stderr
    reason = done.stderr.splitlines()[0].split("error: ", 1)[1]
    assert not reason.split(": ", 1)[-1].startswith(" ["), "an empty reason"


def test_a_program_over_the_size_limit_is_refused_at_once(tmp_path: Path) -> None:
    program = tmp_path / "huge.py"
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(200_000))
    program.write_text(REGION + body + "print(data_parallel_region([1], f1))\n")
    started = time.monotonic()
    done = run_cli(str(program), "--target", "local", "-o", str(tmp_path / "out"))
    assert time.monotonic() - started < 30
    assert done.returncode == 2
    assert "error: the program is " in done.stderr and "up to 1 MB" in done.stderr
    assert "[TR006]" in done.stderr
