"""The local target: Main.py and the pattern files run as processes on this machine."""

from __future__ import annotations

from ..plan import ParallelPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import header_for, pattern_step_files, program_files

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
    files.update(pattern_step_files(plan))
    return files
