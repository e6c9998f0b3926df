"""The local target: Main.py and the pattern files run as processes on this machine."""

from __future__ import annotations

from typing import Any

from toreador.runtime.local import Region

from ..plan import ParallelPlan, RegionPlan
from ..transform import TransformedProgram
from .common import model_arguments, pattern_step_files, program_files


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        return model_arguments(region, Region, plan.model.local, {})

    files = program_files(plan, program, arguments)
    if plan.regions:
        files.update(pattern_step_files(plan))
    return files
