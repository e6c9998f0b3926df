"""The spark target: each region runs as Spark jobs (PySpark), in local mode or on a cluster.

Main.py builds the SparkSession from the deployment model when a region first runs (or uses
the one spark-submit or a notebook made); run_spark.sh submits the same program with the
model's executors, cores and memory and ships the generated modules with --py-files. The
pattern steps (Mapper.py, Consumer.py, Worker.py, ...) are the same files the local target
writes: they run inside Spark tasks. A program with nested regions also gets the local engine,
which runs an inner region on the CPUs Spark gives its task.
"""

from __future__ import annotations

import shlex
from typing import Any

from ..plan import ParallelPlan, RegionPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import base_arguments, header_for, pattern_step_files, program_files

RUNTIME_MODULE = "spark_runtime"
INNER_RUNTIME_MODULE = "parallel_runtime"


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    settings = plan.model.spark
    app_name = f"toreador-{plan.shared_module.removesuffix('_shared')}"

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        return [
            *base_arguments(region),
            ("master", settings.master),
            ("executors", settings.executors),
            ("executor_cores", settings.executor_cores),
            ("executor_memory", settings.executor_memory),
            ("driver_memory", settings.driver_memory),
            ("task_cpus", settings.task_cpus),
            ("python", settings.python),
            ("app_name", app_name),
            ("shared_module", plan.shared_module),
        ]

    files = program_files(plan, program, RUNTIME_MODULE, arguments)
    if not plan.regions:
        return files
    header = header_for(plan)
    files[f"{RUNTIME_MODULE}.py"] = (
        header("The spark engine: SparkSession, jobs per region, ordered results.")
        + "\n"
        + render_skeleton("spark/spark_runtime.py.j2", {})
    )
    if any(region.nested for region in plan.regions):
        files[f"{INNER_RUNTIME_MODULE}.py"] = (
            header("The local engine: runs nested regions on a Spark task's CPUs.")
            + "\n"
            + render_skeleton("local/parallel_runtime.py.j2", {})
        )
    files.update(pattern_step_files(plan))
    files["run_spark.sh"] = render_skeleton(
        "spark/run_spark.sh.j2",
        {
            "header": header("Deployment script: spark-submit with the model's resources."),
            "master": shlex.quote(settings.master),
            "python": shlex.quote(settings.python) if settings.python else "python3",
            "app_name": shlex.quote(app_name),
            "driver_memory": settings.driver_memory,
            "executor_memory": settings.executor_memory,
            "executor_cores": settings.executor_cores,
            "executors": settings.executors,
            "total_cores": settings.executors * settings.executor_cores,
            "task_cpus": settings.task_cpus,
        },
    )
    return files
