"""The local target: Main.py and the pattern files run as processes on this machine."""

from __future__ import annotations

from toreador.patterns import PATTERNS

from ..plan import ParallelPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import header_for, program_files

RUNTIME_MODULE = "parallel_runtime"


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    files = program_files(plan, program, RUNTIME_MODULE)
    if not plan.regions:
        return files
    header = header_for(plan)
    files[f"{RUNTIME_MODULE}.py"] = (
        header("The local engine: worker processes, bounded queue, ordered results.")
        + "\n"
        + render_skeleton("local/parallel_runtime.py.j2", {})
    )
    labels = ", ".join(r.label for r in plan.regions)
    for pattern in plan.patterns:
        for name in PATTERNS[pattern].files:
            files[name] = render_skeleton(
                f"{pattern}/steps/{name}.j2",
                {"header": header(f"The {pattern} pattern's {name[:-3]} step."), "labels": labels},
            )
    return files
