"""The verify report's diff: a real unified diff of what differs (checked by applying it),
numbered in the whole outputs, and a plain "differ from line N" when too much differs to
compare line by line in reasonable time."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from toreador.compiler.verify import MAX_DIFF_LINES, RunResult, Verdict, bounded_diff

LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\n", "long line\n", "x"]), max_size=40)


def apply(original: list[str], diff: str) -> list[str]:
    """``diff`` (unified, as ``bounded_diff`` writes it) applied to ``original``."""
    result: list[str] = []
    at = 0
    for line in diff.splitlines(keepends=True)[2:]:
        hunk = re.match(r"@@ -(\d+)(?:,(\d+))? ", line)
        if hunk:
            start = int(hunk[1]) - (0 if hunk[2] == "0" else 1)
            result += original[at:start]
            at = start
        elif line.startswith(" "):
            result.append(original[at])
            at += 1
        elif line.startswith("-"):
            at += 1
        elif line.startswith("+"):
            result.append(line[1:])
    return result + original[at:]


@settings(max_examples=400, deadline=None)
@given(LINES, LINES, LINES)
def test_the_diff_turns_one_output_into_the_other(
    head: list[str], middle: list[str], tail: list[str]
) -> None:
    ours = [line if line.endswith("\n") else line + "\n" for line in head + tail]
    theirs = [line if line.endswith("\n") else line + "\n" for line in head + middle + tail]
    diff = bounded_diff(ours, theirs, "ours", "theirs")
    assert apply(ours, diff) == theirs
    assert (diff == "") == (ours == theirs)


def test_hunks_are_numbered_in_the_whole_output() -> None:
    ours = [f"{i}\n" for i in range(100)]
    theirs = [*ours[:60], "changed\n", *ours[61:]]
    diff = bounded_diff(ours, theirs, "ours", "theirs")
    assert "@@ -58,7 +58,7 @@\n" in diff and "-60\n+changed\n" in diff


def test_too_much_difference_names_the_first_line_instead() -> None:
    ours = [f"{i}\n" for i in range(MAX_DIFF_LINES)]
    theirs = ["same\n", *[f"{i * 7}\n" for i in range(MAX_DIFF_LINES)]]
    ours = ["same\n", *ours]
    report = bounded_diff(ours, theirs, "ours", "theirs")
    assert report.startswith("the outputs differ from line 3 on (2001 lines in all from ours")
    assert "- '1'\n+ '7'\n" in report


def test_a_huge_line_is_shown_cut() -> None:
    verdict = Verdict(RunResult("y" * 300_000 + "\n", "", 0), RunResult("z\n", "", 1))
    report = verdict.report("p.py")
    assert "differ from line 1" in report and len(report) < 2_000
    assert report.endswith("exit status: sequential 0, generated 1\n")
