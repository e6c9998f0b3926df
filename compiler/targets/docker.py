"""The docker target: each region runs in worker containers on a Docker engine.

Main.py builds the workers' image from the generated Dockerfile when a region first runs,
creates the shared volume (and, for producer-consumer regions, a Redis queue), starts the
worker containers, feeds them and removes everything it created at exit. An outer region (one
whose kernel holds nested regions) gets one container per item, whose nested regions run with
the local engine on the container's CPUs. docker-compose.yml gives operators a long-lived
worker group that Main.py can feed instead.
"""

from __future__ import annotations

from typing import Any

from toreador.runtime.docker_run import Region

from ..plan import ParallelPlan, RegionPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import header_for, model_arguments, pattern_step_files, program_files

COMPOSE_REDIS_PORT = 6379


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    settings = plan.model.docker
    app = plan.shared_module.removesuffix("_shared").lower().replace("_", "-") or "program"
    has_nested = any(region.nested for region in plan.regions)

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        derived = {
            "outer": has_nested and not region.nested and settings.container_per_outer_item,
            "cpus": plan.model.cores_per_worker,
            "memory": plan.model.memory_per_worker,
            "app_name": f"toreador-{app}",
        }
        return model_arguments(region, Region, settings, derived)

    files = program_files(plan, program, arguments)
    if not plan.regions:
        return files
    header = header_for(plan)
    files["docker_worker.py"] = render_skeleton(
        "docker/docker_worker.py.j2", {"header": header("The worker containers' command.")}
    )
    files.update(pattern_step_files(plan))
    context = {
        "app": app,
        "base_image": settings.base_image,
        "redis_image": settings.redis_image,
        "redis_port": COMPOSE_REDIS_PORT,
        "replicas": settings.replicas,
        "cpus": plan.model.cores_per_worker,
        "memory": plan.model.memory_per_worker,
        "volume": settings.volume,
    }
    files["Dockerfile"] = render_skeleton(
        "docker/Dockerfile.j2", {"header": header("How the workers' image is built."), **context}
    )
    files[".dockerignore"] = render_skeleton(
        "docker/dockerignore.j2", {"header": header("What the image leaves out.")}
    )
    files["docker-compose.yml"] = render_skeleton(
        "docker/docker-compose.yml.j2",
        {"header": header("A worker group for operators."), **context},
    )
    return files
