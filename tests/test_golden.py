"""Generated folders compared whole with the golden ones; a mismatch prints a unified diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from .golden_cases import CASES, GOLDEN, TARGET_PATTERNS, UPDATE_COMMAND, compare, generate


@pytest.mark.parametrize(("pattern", "target"), TARGET_PATTERNS)
@pytest.mark.parametrize("case", CASES)
def test_matches_golden(case: str, pattern: str, target: str, tmp_path: Path) -> None:
    actual = generate(case, pattern, tmp_path, target)
    expected = GOLDEN / case / f"{pattern}-{target}"
    assert expected.is_dir(), f"no golden folder {expected}; run {UPDATE_COMMAND}"
    diff = compare(expected, actual)
    assert not diff, f"generated files differ from golden (if intended: {UPDATE_COMMAND})\n{diff}"
