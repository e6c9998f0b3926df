"""Verify mode: run the reference and the generated program, compare stdout and exit status."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# difflib compares every line of one side with every line of the other: beyond these sizes
# (of what differs, once the equal lines at both ends are set aside) the report says where
# the outputs part instead (an 85 KB output once took the web compiler 33 s of CPU to diff)
MAX_DIFF_LINES = 2000
MAX_DIFF_CHARS = 200_000
SHOWN_LINE_CHARS = 500
CONTEXT = 3
_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def bounded_diff(ours: list[str], theirs: list[str], fromfile: str, tofile: str) -> str:
    """A unified diff of two outputs' lines in time linear in their size: the lines equal at
    both ends are skipped, difflib compares only the rest (with its context), and when the
    rest is still large the report names the first line where the outputs part."""
    start = 0
    while start < min(len(ours), len(theirs)) and ours[start] == theirs[start]:
        start += 1
    end = 0  # equal lines at the end, not overlapping the start
    while (
        end < min(len(ours), len(theirs)) - start
        and ours[len(ours) - 1 - end] == theirs[len(theirs) - 1 - end]
    ):
        end += 1
    low = max(0, start - CONTEXT)
    ours_part = ours[low : len(ours) - max(0, end - CONTEXT)]
    theirs_part = theirs[low : len(theirs) - max(0, end - CONTEXT)]
    size = sum(map(len, ours_part)) + sum(map(len, theirs_part))
    if len(ours_part) + len(theirs_part) > MAX_DIFF_LINES or size > MAX_DIFF_CHARS:

        def shown(lines: list[str]) -> str:
            if start >= len(lines):
                return "(no more lines)"
            line = lines[start].rstrip("\n")
            cut = len(line) > SHOWN_LINE_CHARS
            return repr(line[:SHOWN_LINE_CHARS]) + (" ..." if cut else "")

        return (
            f"the outputs differ from line {start + 1} on ({len(ours)} lines in all from "
            f"{fromfile}, {len(theirs)} from {tofile}; too much differs to show a diff):\n"
            f"- {shown(ours)}\n+ {shown(theirs)}\n"
        )
    lines = []
    for line in difflib.unified_diff(ours_part, theirs_part, fromfile=fromfile, tofile=tofile):
        hunk = _HUNK.match(line)
        if hunk:  # numbered in the whole outputs, not in the parts compared
            line = (
                f"@@ -{int(hunk[1]) + low}{hunk[2] or ''} +{int(hunk[3]) + low}{hunk[4] or ''} @@\n"
            )
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines)


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
        text = bounded_diff(
            self.reference.stdout.splitlines(keepends=True),
            self.generated.stdout.splitlines(keepends=True),
            f"{source_name} (sequential)",
            "Main.py (generated)",
        )
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
