"""The hadoop target: a Hadoop Streaming job of Mapper.py and Reducer.py per region.

Main.py prepares the input splits, launches the job (on a Hadoop installation when one is
named, else with a local streaming runner that keeps Streaming's contract) and collects the
results in input order; run_hadoop.sh holds the same command for operators.
"""

from __future__ import annotations

from typing import Any

from toreador.runtime.hadoop import Region

from ..plan import ParallelPlan, RegionPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import header_for, model_arguments, program_files


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    settings = plan.model.hadoop

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        return model_arguments(region, Region, settings, {"shared_module": plan.shared_module})

    files = program_files(plan, program, arguments)
    if not plan.regions:
        return files
    header = header_for(plan)
    labels = ", ".join(r.label for r in plan.regions)
    for name in ("Mapper.py", "Reducer.py"):
        files[name] = render_skeleton(
            f"mapreduce/hadoop/{name}.j2",
            {"header": header(f"The Hadoop Streaming {name[:-3].lower()}."), "labels": labels},
        )
    shipped = ["Mapper.py", "Reducer.py", f"{plan.shared_module}.py"]
    hadoop = f"{settings.hadoop_home}/bin/hadoop" if settings.hadoop_home else "hadoop"
    files["run_hadoop.sh"] = render_skeleton(
        "hadoop/run_hadoop.sh.j2",
        {
            "header": header("Deployment script: the streaming job for operators."),
            "label": labels,
            "hadoop": hadoop,
            "streaming_jar": settings.streaming_jar or "hadoop-streaming.jar",
            "input": settings.input,
            "output": settings.output,
            "reducers": settings.reducers,
            "python": settings.python,
            "files": ",".join(f"$here/{name}" for name in shipped),
        },
    )
    return files
