"""The spark target: each region runs as Spark jobs (PySpark), in local mode or on a cluster.

Main.py builds the SparkSession from the deployment model when a region first runs (or uses
the one spark-submit or a notebook made); run_spark.sh submits the same program with the
model's executors, cores and memory and ships the generated modules with --py-files. The
pattern steps (Mapper.py, Consumer.py, Worker.py, ...) are the same files the local target
writes: they run inside Spark tasks. The runtime's local engine runs a nested region on the
CPUs Spark gives its task.
"""

from __future__ import annotations

from typing import Any

from toreador.runtime.spark import Region, retrying_master

from ..plan import ParallelPlan, RegionPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import header_for, model_arguments, pattern_step_files, program_files


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    settings = plan.model.spark
    app_name = f"toreador-{plan.shared_module.removesuffix('_shared')}"

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        return model_arguments(region, Region, settings, {"app_name": app_name})

    files = program_files(plan, program, arguments)
    if not plan.regions:
        return files
    header = header_for(plan)
    files.update(pattern_step_files(plan))
    files["run_spark.sh"] = render_skeleton(
        "spark/run_spark.sh.j2",
        {
            "header": header("Deployment script: spark-submit with the model's resources."),
            # local[N] never retries a task: local[N,F] does (as Main.py's own session)
            "master": retrying_master(settings.master, plan.model.max_attempts),
            "max_attempts": plan.model.max_attempts,
            "python": settings.python or "python3",
            "app_name": app_name,
            "driver_memory": settings.driver_memory,
            "executor_memory": settings.executor_memory,
            "executor_cores": settings.executor_cores,
            "executors": settings.executors,
            "total_cores": settings.executors * settings.executor_cores,
            "task_cpus": settings.task_cpus,
        },
    )
    return files
