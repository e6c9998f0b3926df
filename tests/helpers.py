"""Helpers shared by the tests: compile a program into a folder, run a script, run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import DeployModel, load_model
from toreador.compiler.source import read_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_script(
    script: Path, *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TOREADOR_PROGRESS="0")
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from toreador.compiler.cli import main; main()", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def compile_into(
    source: Path,
    out_dir: Path,
    pattern: str = "auto",
    target: str = "local",
    model: DeployModel | None = None,
) -> Path:
    compiled = compile_source(read_source(source), pattern, target, model or load_model(None))
    write_output(compiled, out_dir)
    return out_dir
