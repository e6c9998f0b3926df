"""The CLI's promise: user errors are `file:line:col: error: ...`, a source line and a caret,
exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import run_cli

BAD_PROGRAMS = [
    pytest.param("def f(:\n    pass\n", "program.py:1:7: error: syntax error", id="syntax-error"),
    pytest.param(
        "from toreador import data_parallel_region\nprint(data_parallel_region([1], g))\n",
        "program.py:2:33: error: undefined kernel 'g'",
        id="undefined-kernel",
    ),
    pytest.param("x = 'unterminated\n", "program.py:1:5: error: syntax error", id="unterminated"),
    pytest.param("if True:\nprint(1)\n", "program.py:2:1: error: syntax error", id="indentation"),
]


@pytest.mark.parametrize(("text", "first_line"), BAD_PROGRAMS)
def test_bad_program_gives_a_clean_diagnostic(text: str, first_line: str, tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(text)
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first_line), result.stderr
    assert lines[2].strip() == "^"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_unreadable_file(tmp_path: Path) -> None:
    result = run_cli("missing.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("missing.py:1:1: error: cannot read file")
    assert "Traceback" not in result.stderr


def test_undecodable_file(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = '\xff\xfe'\n")
    result = run_cli("latin.py", cwd=tmp_path)
    assert result.returncode == 2 and "cannot decode file" in result.stderr


@pytest.mark.parametrize(
    ("pattern", "target", "message"),
    [
        (
            "producer-consumer",
            "hadoop",
            "pattern 'producer-consumer' cannot run on target 'hadoop'. Possible pairs: "
            "local: mapreduce, producer-consumer, bag-of-tasks; hadoop: mapreduce",
        ),
        (
            "bag-of-tasks",
            "hadoop",
            "pattern 'bag-of-tasks' cannot run on target 'hadoop'. Possible pairs: "
            "local: mapreduce, producer-consumer, bag-of-tasks; hadoop: mapreduce; "
            "spark: mapreduce, producer-consumer, bag-of-tasks; "
            "docker: mapreduce, producer-consumer, bag-of-tasks",
        ),
    ],
)
def test_impossible_pattern_target_pair(
    pattern: str, target: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "p.py").write_text("print(1)\n")
    result = run_cli("p.py", "--pattern", pattern, "--target", target, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_no_region_warns_and_still_runs(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text('"""Doc."""\nimport sys\nprint("hi", sys.argv[1:])\n')
    result = run_cli("p.py", "-o", "out", "--verify", "--", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "p.py:1:1: warning: no parallel region found" in result.stderr
    assert result.stdout.strip() == "equal"


def test_bad_model_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("print(1)\n")
    (tmp_path / "m.toml").write_text("workers = 2\n[spark]\nmastr = 'local'\n")
    result = run_cli("p.py", "--model", "m.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "m.toml:3:1: error: [spark] unknown key 'mastr' (did you mean 'master'?)"
    )
