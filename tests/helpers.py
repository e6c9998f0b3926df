"""Helpers shared by the tests: compile a program into a folder, run a script, run the CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import runpy
import subprocess
import sys
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from toreador.compiler import compile_source, write_output
from toreador.compiler.deploy_model import DeployModel, load_model
from toreador.compiler.source import read_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_script(
    script: Path,
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = dict(env or os.environ, TOREADOR_PROGRESS="0")
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


# What a test run sets that a user's shell would not: engine variables (the spark_session
# fixture sets PYSPARK_PYTHON for the whole run), the activated venv, the quiet switch.
TEST_ONLY_VARIABLES = (
    "PYSPARK_PYTHON",
    "PYSPARK_DRIVER_PYTHON",
    "SPARK_LOCAL_IP",
    "VIRTUAL_ENV",
    "TOREADOR_PROGRESS",
    "TOREADOR_IN_TASK",
    "PYTHONPATH",
)


def user_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a user who runs ``.venv/bin/python OUT/Main.py`` from a shell in
    which the venv is not activated: no engine variables, the venv's bin not on PATH.
    ``extra`` holds what such a user does set (DOCKER_HOST, HADOOP_HOME, ...)."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_VARIABLES}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    for name, value in (extra or {}).items():
        if name not in TEST_ONLY_VARIABLES:
            env[name] = value
    return env


def run_as_user(
    main: Path,
    *args: str,
    cwd: Path | None = None,
    extra: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run a generated Main.py as the README says: its own process, a user's environment."""
    return subprocess.run(
        [sys.executable, str(main), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=user_env(extra),
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


def in_workers(model: DeployModel | None = None) -> DeployModel:
    """``model`` (the defaults if None) with ``placement = "workers"`` under ``[local]`` and
    ``[hadoop]``: every region runs in worker processes (streaming jobs) however little work
    it holds (tests of the workers themselves: a kernel that kills its process must kill a
    worker, not the main program)."""
    model = model or load_model(None)
    return dataclasses.replace(
        model,
        local=dataclasses.replace(model.local, placement="workers"),
        hadoop=dataclasses.replace(model.hadoop, placement="workers"),
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


def compile_for_session(
    source: Path,
    tmp_path: Path,
    pattern: str = "auto",
    target: str = "spark",
    model: DeployModel | None = None,
) -> Path:
    """Compile a copy of ``source`` under a name of its own, into ``tmp_path / "out"``.

    One SparkSession serves every test, and its executors keep the first module they import
    under a name: two programs that both compile to ``program_shared`` would meet. A unique
    source name gives every compiled program its own module names.
    """
    copy = tmp_path / f"{source.stem}_{uuid.uuid4().hex[:8]}.py"
    copy.write_bytes(source.read_bytes())
    return compile_into(copy, tmp_path / "out", pattern, target, model)


@dataclass(frozen=True)
class InProcessResult:
    """What a program run in this process printed, and its exit status."""

    stdout: str
    stderr: str
    returncode: int


def _drop_modules_under(folder: Path) -> None:
    """Forget the modules imported from ``folder`` (compared as text: resolving every
    loaded module's path took 0.1 s a run, which the spark benchmark counted as the
    engine's)."""
    prefix = str(folder.resolve()) + os.sep
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name != "__main__" and file and os.path.realpath(file).startswith(prefix):
            del sys.modules[name]


def run_in_session(main: Path, *args: str) -> InProcessResult:
    """Run a generated Main.py in this process, as `python Main.py ARGS` would run it.

    For the spark target: the program finds the test run's SparkSession as the active one,
    instead of starting its own JVM (8 s) per program. Its folder's modules are imported
    afresh for the run and dropped after it.
    """
    folder = main.resolve().parent
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [str(main), *args]
    sys.path.insert(0, str(folder))
    _drop_modules_under(folder)
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                runpy.run_path(str(main), run_name="__main__")
            except SystemExit as exit_:
                if isinstance(exit_.code, int) or exit_.code is None:
                    code = exit_.code or 0
                else:
                    print(exit_.code, file=sys.stderr)
                    code = 1
            except BaseException:  # as the interpreter would: traceback on stderr, status 1
                traceback.print_exc(file=sys.stderr)
                code = 1
            finally:
                sys.stdout.flush()
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        _drop_modules_under(folder)
    return InProcessResult(stdout.getvalue(), stderr.getvalue(), code)
