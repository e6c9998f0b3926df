"""The CLI's promise: user errors are `file:line:col: error: ...`, a source line and a caret,
exit status 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import run_as_user, run_cli

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


RANDOM_PROGRAM = """\
import random
import numpy as np
from random import randint
from toreador import data_parallel_region

random.seed(1)


def noisy(x):
    return x + random.random()


def seeded(x, seed):
    rng = random.Random(seed + x)
    return rng.random() + np.random.default_rng(x).random()


def legacy(x):
    return np.random.rand() + randint(0, 3)


print(data_parallel_region([1, 2], noisy))
print(data_parallel_region([1, 2], seeded, 7))
print(data_parallel_region([1, 2], legacy))
print(data_parallel_region([1, 2], lambda x: random.choice([x, 2 * x])))
print(random.random())
"""


def test_global_random_state_in_kernels_is_a_located_warning(tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(RANDOM_PROGRAM)
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert [h.split(": warning: ")[0] for h in heads] == [
        "program.py:10:16",
        "program.py:19:12",
        "program.py:19:31",
        "program.py:25:46",
    ]
    assert "kernel 'noisy' uses the global random state (`random.random`)" in heads[0]
    assert "(`numpy.random.rand`)" in heads[1] and "(`random.randint`)" in heads[2]
    assert "kernel '<lambda at line 25>'" in heads[3]
    assert "random.Random(seed)" in heads[0]  # the fix is named
    assert (tmp_path / "out" / "Main.py").exists()


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(RANDOM_PROGRAM)
    result = run_cli("program.py", "-o", "out", "--strict", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("program.py:10:16: error: kernel 'noisy' uses the global")
    assert ": warning: " not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_strict_compiles_a_program_without_warnings(tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(
        "import random\nfrom toreador import data_parallel_region\n"
        "def draw(seed):\n    return random.Random(seed).random()\n"
        "print(data_parallel_region([1, 2], draw))\n"
    )
    result = run_cli("program.py", "-o", "out", "--strict", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_a_function_that_must_stay_in_main_reaches_hadoop_workers_by_value(
    tmp_path: Path,
) -> None:
    # `square` needs a global computed by code: shipping it would compute it again in the
    # workers, so it stays in Main.py; it reaches the streaming tasks by value (cloudpickle,
    # with FACTOR's value in Main.py), so nothing is to be said
    (tmp_path / "program.py").write_text(
        "import sys\nfrom toreador import data_parallel_region\n"
        "FACTOR = len(sys.argv)\n"
        "def square(x):\n    return x * x * FACTOR\n"
        "def run(kernel):\n    return data_parallel_region([1, 2, 3], kernel)\n"
        "print(run(square))\n"
    )
    (tmp_path / "jobs.toml").write_text('[hadoop]\nplacement = "workers"\n')
    result = run_cli(
        "program.py", "-o", "out", "--target", "hadoop", "--model", "jobs.toml", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    got = run_as_user(tmp_path / "out" / "Main.py", "one", "two")
    assert (got.returncode, got.stdout) == (0, "[3, 12, 27]\n"), got.stderr


@pytest.mark.parametrize(
    ("text", "first_line", "caret_line"),
    [
        pytest.param(
            "from toreador import data_parallel_region\n"
            'if __name__ == "__main__":\n'
            "    def work(x):\n        return x + 1\n"
            "    print(data_parallel_region([1, 2], work))\n",
            "program.py:3:5: error: kernel 'work', which is defined inside "
            '`if __name__ == "__main__":`; workers never run that block: move the definition '
            "out of the guard, to module level",
            "    def work(x):",
            id="kernel",
        ),
        pytest.param(
            "from toreador import data_parallel_region\n"
            "def work(x):\n    return helper(x)\n"
            'if __name__ == "__main__":\n'
            "    @staticmethod\n    def helper(x):\n        return x + 1\n"
            "    print(data_parallel_region([1, 2], work))\n",
            "program.py:6:5: error: function 'work' uses global 'helper', which is defined "
            'inside `if __name__ == "__main__":`',
            "    def helper(x):",
            id="what-a-kernel-needs",
        ),
    ],
)
def test_a_definition_inside_the_main_guard_is_pointed_at(
    text: str, first_line: str, caret_line: str, tmp_path: Path
) -> None:
    (tmp_path / "program.py").write_text(text)
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first_line), result.stderr
    assert lines[1] == "    " + caret_line
    assert lines[2] == "        ^"
    assert "replicated argument" not in result.stderr


def test_a_shebang_line_stays_the_first_line(tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(
        "#!/usr/bin/env python3\n# a comment\nfrom toreador import data_parallel_region\n"
        "def work(x):\n    return x + 1\nprint(data_parallel_region([1, 2], work))\n"
    )
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    main = tmp_path / "out" / "Main.py"
    lines = main.read_text().splitlines()
    assert lines[0] == "#!/usr/bin/env python3"
    assert lines[1].startswith("# Generated by toreador")
    assert "# a comment" in lines
    assert lines.count("#!/usr/bin/env python3") == 1
    assert main.stat().st_mode & 0o111  # runnable as ./Main.py, as the source was meant to be


HAZARD_PROGRAM = """\
import sys
from toreador import data_parallel_region, producer_consumer


def who(x):
    return __file__, x


def ask(x):
    return sys.stdin.readline() + str(x)


print(data_parallel_region([1, 2], who))
print(producer_consumer(iter(["a? "]), input))
print(data_parallel_region([1, 2], ask))
print(data_parallel_region([1, 2], print, __file__))
"""


def test_stdin_and_module_identity_in_kernels_are_located_warnings(tmp_path: Path) -> None:
    (tmp_path / "program.py").write_text(HAZARD_PROGRAM)
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert [h.split(": warning: ")[0] for h in heads] == [
        "program.py:6:12",
        "program.py:10:12",
        "program.py:14:40",
    ]  # not line 16: a replicated `__file__` is evaluated in Main.py, as in the source
    assert "kernel 'who' reads `__file__`, which where kernels run names the generated" in heads[0]
    assert "kernel 'ask' reads standard input (`sys.stdin`), which workers do not have" in heads[1]
    assert "kernel 'input' reads standard input (`input`)" in heads[2]


def test_folders_added_to_sys_path_are_followed_or_named(tmp_path: Path) -> None:
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "shout.py").write_text("def loud(x):\n    return str(x).upper()\n")
    (tmp_path / "program.py").write_text(
        "import pathlib, sys\n"
        "sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / 'libs'))\n"
        "sys.path.append('/opt/elsewhere')\n"
        "sys.path.insert(0, 'relative')\n"
        "import shout\n"
        "from toreador import data_parallel_region\n"
        "print(data_parallel_region(['a'], shout.loud))\n"
    )
    result = run_cli("program.py", "-o", "out", "--target", "docker", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert [h.split(": warning: ")[0] for h in heads] == ["program.py:3:1", "program.py:4:1"]
    assert "adds /opt/elsewhere to sys.path, which the compiler cannot follow" in heads[0]
    assert "'relative' (relative to the working directory)" in heads[1]
    assert (tmp_path / "out" / "libs" / "shout.py").is_file()  # the followed folder
    requirements = (tmp_path / "out" / "requirements.txt").read_text()
    assert "shout" not in requirements  # the program's own module, not a missing package


def test_a_global_iterator_and_an_open_file_given_to_kernels_are_located_warnings(
    tmp_path: Path,
) -> None:
    (tmp_path / "program.py").write_text(
        "import itertools\n"
        "from toreador import data_parallel_region\n"
        "ids = itertools.count(1)\n"
        "def tag(x):\n    return (next(ids), x)\n"
        "def write(x, out):\n    out.write(f'{x}\\n')\n    return x\n"
        "def local_ids(x):\n    mine = iter(range(3))\n    return next(mine) + x\n"
        "print(data_parallel_region(['a'], tag))\n"
        "print(data_parallel_region([1], local_ids))\n"
        "with open('log.txt', 'w') as log:\n    data_parallel_region([1], write, log)\n"
        "data_parallel_region([1], write, 'not a file')\n"
    )
    result = run_cli("program.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    heads = [line for line in result.stderr.splitlines() if ": warning: " in line]
    assert [h.split(": warning: ")[0] for h in heads] == ["program.py:5:18", "program.py:15:38"]
    assert "module-level iterator `ids`" in heads[0] and heads[0].endswith("[TR407]")
    assert "the open file `log` is passed to the kernels" in heads[1]
    assert heads[1].endswith("[TR408]")
