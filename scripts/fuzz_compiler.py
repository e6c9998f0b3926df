"""A long fuzz run of the compiler, outside CI: thousands of generated programs, every target.

Run: .venv/bin/python scripts/fuzz_compiler.py [--programs 3000] [--seed 1] [--out fuzz-findings]

hypothesmith writes programs from Python's grammar (some with a region added, as the tests do);
each is compiled for local, hadoop, spark and docker in memory. A compiler crash (anything but
a CompileError diagnostic) or a generated file that does not parse is a finding: its program
is saved under --out with the traceback, to become an explicit case in
tests/test_fuzz_compiler.py. Progress goes to stderr; the summary to stdout; exit 1 on findings.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import random
import sys
import time
import traceback
import warnings
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toreador.compiler import compile_source
from toreador.compiler.deploy_model import DeployModel
from toreador.compiler.diagnostics import CompileError
from toreador.compiler.source import source_from_bytes

TARGETS = ("local", "hadoop", "spark", "docker")
PRELUDE = "from toreador import data_parallel_region as dpr, producer_consumer, bag_of_task\n"
CALLS = ["", "dpr([1], print)\n", "producer_consumer(range(3), str)\n", "bag_of_task([1], [abs])\n"]


def check(text: str) -> str | None:
    """None when every target compiles the program or refuses it cleanly; else the problem."""
    source = source_from_bytes(text.encode("utf-8", "surrogatepass"), Path("fuzz.py"), "fuzz.py")
    for target in TARGETS:
        try:
            compiled = compile_source(source, "auto", target, DeployModel())
        except CompileError:
            continue
        except Exception:
            return f"target {target}: compiler crash\n{traceback.format_exc()}"
        for name, content in compiled.files.items():
            if name.endswith(".py"):
                try:
                    ast.parse(content, filename=name)
                except SyntaxError:
                    return f"target {target}: {name} does not parse\n{traceback.format_exc()}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    options = parser.parse_args()
    warnings.simplefilter("ignore")  # generated programs make CPython warn; not ours
    random.seed(options.seed)
    findings: dict[str, str] = {}
    seen = 0
    started = time.monotonic()

    @settings(
        max_examples=options.programs,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=False,
    )
    @given(
        program=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()),
        call=st.sampled_from(CALLS),
    )
    def run(program: str, call: str) -> None:
        nonlocal seen
        seen += 1
        text = PRELUDE + program + "\n" + call if call else program
        problem = check(text)
        if problem is not None:
            key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
            findings[key] = problem
            folder = options.out / key
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "program.py").write_bytes(text.encode("utf-8", "surrogatepass"))
            (folder / "problem.txt").write_text(problem)
        if seen % 100 == 0:
            print(f"{seen} programs, {len(findings)} finding(s), "
                  f"{time.monotonic() - started:.0f} s", file=sys.stderr)  # fmt: skip

    run()
    print(f"{seen} programs x {len(TARGETS)} targets: {len(findings)} finding(s)")
    for key, problem in findings.items():
        print(f"- {options.out / key}: {problem.splitlines()[0]}")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
