"""The registry of targets: what the CLI, the web form, plan and pipeline know of each target
(names, patterns, what each ships and copies) before any target module is loaded.

Stages read this table; only the last stage loads a target's module (``targets.load_target``),
so no stage imports a later one.
"""

from __future__ import annotations

from dataclasses import dataclass

from toreador.patterns import PATTERNS


@dataclass(frozen=True)
class TargetInfo:
    """What the compiler knows about a target before loading its module."""

    name: str
    patterns: tuple[str, ...]
    module: str | None  # None: designed, not implemented in this version
    summary: str
    requirements: bool = False  # writes requirements.txt: the workers run elsewhere
    ships_packages: bool = False  # copies the folder-installed packages the workers import
    worker_packages: tuple[str, ...] = ()  # what the engine's workers import themselves
    # the workers find Main.py's own definitions (forked from it, or sent by value by
    # cloudpickle: runtime/travel.py); elsewhere what stays in Main.py cannot be unpickled
    workers_see_main: bool = False
    # the runtime's modules this target copies into the generated folder (toreador.runtime)
    runtime: tuple[str, ...] = ()
    engine: str = ""  # the one of them Main.py and the shared module import from


ALL_PATTERNS = tuple(PATTERNS)
# What every batch engine needs; each target adds its own modules.
_CORE = ("__init__", "semantics", "process_state", "travel", "output", "outcomes")
_BATCHES = (*_CORE, "driver", "placement", "local", "local_workers")

TARGETS: dict[str, TargetInfo] = {
    "local": TargetInfo(
        "local",
        ALL_PATTERNS,
        "local",
        "processes on this machine",
        workers_see_main=True,
        runtime=_BATCHES,
        engine="local",
    ),
    "hadoop": TargetInfo(
        "hadoop",
        ("mapreduce",),
        "hadoop",
        "Hadoop Streaming",
        workers_see_main=True,
        runtime=(*_CORE, "placement", "hadoop", "hadoop_job", "hadoop_streaming"),
        engine="hadoop",
    ),
    "spark": TargetInfo(
        "spark",
        ALL_PATTERNS,
        "spark",
        "PySpark, local mode or a cluster",
        requirements=True,
        workers_see_main=True,
        runtime=(*_BATCHES, "spark"),
        engine="spark",
    ),
    "docker": TargetInfo(
        "docker",
        ALL_PATTERNS,
        "docker",
        "containers on a Docker engine",
        requirements=True,
        ships_packages=True,
        workers_see_main=True,
        worker_packages=("redis", "cloudpickle"),
        runtime=(
            *_BATCHES,
            "docker_transport",
            "docker_image",
            "docker_containers",
            "docker_run",
        ),
        engine="docker_run",
    ),
}
