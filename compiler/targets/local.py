"""The local target: Main.py and the pattern files run as processes on this machine."""

from __future__ import annotations

from ..plan import ParallelPlan
from ..transform import TransformedProgram
from .common import pattern_step_files, program_files


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    files = program_files(plan, program)
    if plan.regions:
        files.update(pattern_step_files(plan))
    return files
