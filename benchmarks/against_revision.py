"""This checkout's engines against an earlier revision's, on the same programs, in one run.

Run: .venv/bin/python benchmarks/against_revision.py REV [--repeat N] [--only TEXT]
REV is any git revision (a commit before a refactor of the runtime, say). Its compiler is
installed into a temporary folder (pip, no dependencies: they are this venv's), both
compilers compile the same examples for the same targets, and the two generated programs run
alternately REPEAT times each, their stdout compared. Printed: median and slowest of each side
and the ratio of medians (this checkout / REV; below 1 is faster).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ENV, EXAMPLES, ROOT, Samples, timed_run

CASES = [
    # (label, example, target, arguments)
    ("local, 300,000 tiny items", "many_tiny.py", "local", ["300000"]),
    ("local, 16 heavy items", "few_heavy.py", "local", ["16", "1000000"]),
    ("local, 200 small regions in a loop", "region_loop.py", "local", ["200"]),
    ("hadoop runner, 300,000 tiny items", "many_tiny.py", "hadoop", ["300000"]),
]


def install(revision: str, into: Path) -> Path:
    """REV's toreador, installed as a plain package under ``into``; its site folder."""
    source, site = into / "source", into / "site"
    source.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(source)],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:  # its warnings are not ours to show; its failure is
        raise SystemExit(f"installing {revision} failed:\n{done.stderr[-3000:]}")
    return site


def compile_with(site: Path | None, example: Path, target: str, out: Path) -> Path:
    env = dict(ENV, PYTHONPATH=str(site)) if site else ENV
    command = "from toreador.compiler.cli import main; main()"
    subprocess.run(
        [sys.executable, "-c", command, str(example), "--target", target, "-o", str(out)],
        env=env,
        check=True,
        capture_output=True,
        cwd=Path(tempfile.gettempdir()),  # not this checkout: its folders shadow nothing
    )
    return out / "Main.py"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("revision")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="the cases whose label holds this text")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="toreador-revision-"))
    site = install(options.revision, folder)
    print(f"this checkout against {options.revision}; {options.repeat} alternating runs each")
    worst = 0.0
    for label, name, target, args in CASES:
        if options.only not in label:
            continue
        example = EXAMPLES / name
        if not example.exists():
            print(f"  {label}: no {name} here, skipped")
            continue
        ours = compile_with(None, example, target, folder / f"new-{target}-{example.stem}")
        theirs = compile_with(site, example, target, folder / f"old-{target}-{example.stem}")
        new, old = Samples(), Samples()
        for _ in range(options.repeat):
            seconds, out_new = timed_run(ours, *args)
            new.add(seconds)
            seconds, out_old = timed_run(theirs, *args)
            old.add(seconds)
            if out_new != out_old:
                print(f"  {label}: OUTPUTS DIFFER")
                return 1
        ratio = new.median / old.median
        worst = max(worst, ratio)
        print(
            f"  {label}: this checkout {new}; {options.revision} {old}; "
            f"ratio of medians {ratio:.3f}x, of slowest {new.slowest / old.slowest:.3f}x"
        )
    print(f"worst ratio of medians {worst:.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
