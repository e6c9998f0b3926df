"""Fuzzing: hypothesmith-generated programs never make the compiler print a traceback.
Each compiles cleanly or is refused with a CompileError (a diagnostic, exit 2 in the CLI)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import DeployModel
from toreador.compiler.diagnostics import CompileError
from toreador.compiler.source import source_from_bytes

PRELUDE = "from toreador import data_parallel_region as dpr, producer_consumer, bag_of_task\n"
CALLS = st.sampled_from(
    [
        "",
        "dpr([1], print)\n",
        "producer_consumer(range(3), {name})\n",
        "bag_of_task([1], [{name}])\n",
        "dpr(range(2), lambda v: v)\n",
    ]
)


TARGETS = st.sampled_from(["local", "hadoop", "spark", "docker"])


def try_compile(text: str, target: str = "local") -> None:
    source = source_from_bytes(text.encode("utf-8", "surrogatepass"), Path("fuzz.py"), "fuzz.py")
    try:
        compiled = compile_source(source, "auto", target, DeployModel())
    except CompileError as error:
        assert error.diagnostics and all(d.path == "fuzz.py" for d in error.diagnostics)
        return
    assert "Main.py" in compiled.files
    for name, content in compiled.files.items():
        if name.endswith(".py"):
            ast.parse(content, filename=name)  # every generated program is valid Python


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=hypothesmith.from_grammar(), target=TARGETS)
def test_grammar_programs_never_crash_the_compiler(program: str, target: str) -> None:
    try_compile(program, target)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=hypothesmith.from_node(), call=CALLS, target=TARGETS)
def test_programs_with_regions_never_crash_the_compiler(
    program: str, call: str, target: str
) -> None:
    names = [line.split("(")[0][4:] for line in program.splitlines() if line.startswith("def ")]
    kernel = names[0] if names else "str"
    try_compile(PRELUDE + program + "\n" + call.format(name=kernel), target)


# Found by the fuzzer: a form feed inside an indentation. Python resets its column count at
# the form feed, so the indentation is only valid relative to the source's own; Main.py once
# failed to parse with TabError.
FORM_FEED = "def A():\n try:# type: ignore\n \x0c\t pass\n finally:\n  pass\n"
FORM_FEED_REGION = (
    PRELUDE + "def k(v):\n try:\n \x0c\t return v + 1\n finally:\n  pass\nprint(dpr([1, 2], k))\n"
)


@pytest.mark.parametrize("target", ["local", "hadoop", "spark", "docker"])
@pytest.mark.parametrize("text", [FORM_FEED, FORM_FEED_REGION], ids=["plain", "region"])
def test_a_form_feed_inside_indentation_compiles_for_every_target(
    text: str, target: str, tmp_path: Path
) -> None:
    try_compile(text, target)
    source = source_from_bytes(text.encode(), tmp_path / "fuzz.py", "fuzz.py")
    compiled = compile_source(source, "auto", target, DeployModel())
    write_output(compiled, tmp_path / "out")  # formats with ruff, which parses each file
    for path in (tmp_path / "out").glob("*.py"):
        compile(path.read_text(), str(path), "exec")
    if target == "local":
        got = subprocess.run(
            [sys.executable, str(tmp_path / "out" / "Main.py")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert got.returncode == 0 and got.stdout == ("[2, 3]\n" if "dpr" in text else "")


# Found by a longer fuzz run: libcst gives no position to the whitespace of `case {}:`, and
# the scope index once crashed on it (KeyError: SimpleWhitespace).
EMPTY_MAPPING_PATTERN = (
    PRELUDE + "X = {}\nmatch X:\n    case {}:\n        pass\n"
    "def k(v):\n    return v + 1\nprint(dpr([1, 2], k))\n"
)


@pytest.mark.parametrize("target", ["local", "hadoop", "spark", "docker"])
def test_an_empty_mapping_pattern_compiles_for_every_target(target: str, tmp_path: Path) -> None:
    try_compile(EMPTY_MAPPING_PATTERN, target)
    if target == "local":
        source = source_from_bytes(EMPTY_MAPPING_PATTERN.encode(), tmp_path / "m.py", "m.py")
        write_output(compile_source(source, "auto", target, DeployModel()), tmp_path / "out")
        got = subprocess.run(
            [sys.executable, str(tmp_path / "out" / "Main.py")],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert (got.stdout, got.returncode) == ("[2, 3]\n", 0), got.stderr
