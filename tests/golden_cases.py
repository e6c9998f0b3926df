"""Golden output folders: what the compiler writes for a few examples, per pattern.

Regenerate after an intended change with:  .venv/bin/python -m tests.golden_cases --update
"""

from __future__ import annotations

import difflib
import shutil
import sys
import tempfile
from pathlib import Path

from .helpers import EXAMPLES, compile_into

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = ("collatz", "nested", "lambdas")
PATTERNS = ("mapreduce", "producer-consumer", "bag-of-tasks")
SOURCES = {
    "collatz": EXAMPLES / "many_tiny.py",
    "nested": EXAMPLES / "nested.py",
    "lambdas": EXAMPLES / "lambdas.py",
}
UPDATE_COMMAND = ".venv/bin/python -m tests.golden_cases --update"


TARGET_PATTERNS = [(pattern, "local") for pattern in PATTERNS] + [
    ("mapreduce", "hadoop"),
    ("producer-consumer", "spark"),
    ("producer-consumer", "docker"),
]


def generate(case: str, pattern: str, into: Path, target: str = "local") -> Path:
    return compile_into(SOURCES[case], into / case / f"{pattern}-{target}", pattern, target)


def compare(expected: Path, actual: Path) -> str:
    """A unified diff of two folders' generated files, empty when they are the same. The
    runtime's copy is not stored here: test_generated_code checks it against the package."""
    names = sorted(
        {p.name for p in expected.iterdir()} | {p.name for p in actual.iterdir() if p.is_file()}
    )
    out: list[str] = []
    for name in names:
        old = (expected / name).read_text().splitlines(True) if (expected / name).exists() else []
        new = (actual / name).read_text().splitlines(True) if (actual / name).exists() else []
        out.extend(difflib.unified_diff(old, new, f"golden/{name}", f"generated/{name}"))
    return "".join(out)


def update() -> None:
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for case in CASES:
        for pattern, target in TARGET_PATTERNS:
            shutil.rmtree(generate(case, pattern, GOLDEN, target) / "toreador_runtime")
    print(f"golden folders rewritten under {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {UPDATE_COMMAND}")
    with tempfile.TemporaryDirectory():
        update()
