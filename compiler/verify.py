"""Verify mode: run the reference and the generated program, compare stdout and exit status."""

from __future__ import annotations

import difflib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunResult:
    stdout: str
    stderr: str
    returncode: int


@dataclass(frozen=True)
class Verdict:
    """Whether the generated program keeps the promise, and the diff when it does not."""

    reference: RunResult
    generated: RunResult

    @property
    def equal(self) -> bool:
        return (
            self.reference.stdout == self.generated.stdout
            and self.reference.returncode == self.generated.returncode
        )

    def report(self, source_name: str) -> str:
        if self.equal:
            status = self.reference.returncode
            # Equal failures are still equal, but worth saying: both may have failed to start.
            return "equal" if status == 0 else f"equal (both exited with status {status})"
        lines = list(
            difflib.unified_diff(
                self.reference.stdout.splitlines(keepends=True),
                self.generated.stdout.splitlines(keepends=True),
                fromfile=f"{source_name} (sequential)",
                tofile="Main.py (generated)",
            )
        )
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        if self.reference.returncode != self.generated.returncode:
            text += (
                f"exit status: sequential {self.reference.returncode}, "
                f"generated {self.generated.returncode}\n"
            )
        return text


def run_python(script: Path, args: list[str], timeout: float | None) -> RunResult:
    """Run a script with this interpreter (which has the sequential primitives installed)."""
    completed = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return RunResult(completed.stdout, completed.stderr, completed.returncode)


def verify(source: Path, out_dir: Path, args: list[str], timeout: float | None = None) -> Verdict:
    """Both runs use the same arguments and working directory."""
    return Verdict(
        run_python(source, args, timeout), run_python(out_dir / "Main.py", args, timeout)
    )
