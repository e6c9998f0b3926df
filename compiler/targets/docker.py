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

from ..diagnostics import UsageError, error_at
from ..plan import ParallelPlan, RegionPlan
from ..render import render_skeleton
from ..transform import TransformedProgram
from .common import base_arguments, header_for, pattern_step_files, program_files

RUNTIME_MODULE = "docker_runtime"
INNER_RUNTIME_MODULE = "parallel_runtime"
COMPOSE_REDIS_PORT = 6379


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""
    settings = plan.model.docker
    app = plan.shared_module.removesuffix("_shared").lower().replace("_", "-") or "program"
    has_nested = any(region.nested for region in plan.regions)
    queued = [r.label for r in plan.regions if r.pattern == "producer-consumer" and not r.nested]
    if settings.network_mode == "none" and queued:
        raise UsageError(
            [
                error_at(
                    "toreador-compile",
                    "deployment model: [docker] network_mode = 'none' leaves the consumer "
                    f"containers of {', '.join(queued)} no way to the Redis queue of the "
                    "producer-consumer pattern; use 'host' or leave it unset",
                )
            ]
        )

    def arguments(region: RegionPlan) -> list[tuple[str, Any]]:
        return [
            *base_arguments(region),
            ("outer", has_nested and not region.nested and settings.container_per_outer_item),
            ("base_image", settings.base_image),
            ("replicas", settings.replicas),
            ("network_mode", settings.network_mode),
            ("volume", settings.volume),
            ("docker_host", settings.docker_host),
            ("redis_url", settings.redis_url),
            ("redis_image", settings.redis_image),
            ("queue_bound", settings.queue_bound),
            ("mount_host_paths", settings.mount_host_paths),
            ("cpus", plan.model.cores_per_worker),
            ("memory", plan.model.memory_per_worker),
            ("app_name", f"toreador-{app}"),
        ]

    files = program_files(plan, program, RUNTIME_MODULE, arguments)
    if not plan.regions:
        return files
    header = header_for(plan)
    files[f"{RUNTIME_MODULE}.py"] = (
        header("The docker engine: image, volume, queue, worker containers, ordered results.")
        + "\n"
        + render_skeleton("docker/docker_runtime.py.j2", {})
    )
    files["docker_worker.py"] = render_skeleton(
        "docker/docker_worker.py.j2", {"header": header("The worker containers' command.")}
    )
    if has_nested:
        files[f"{INNER_RUNTIME_MODULE}.py"] = (
            header("The local engine: runs nested regions on a worker container's CPUs.")
            + "\n"
            + render_skeleton("local/parallel_runtime.py.j2", {})
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
