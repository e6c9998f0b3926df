"""The targets (platforms), registered in one place and chosen by name.

Like mrjob's runners: one module per target, imported lazily, so an engine that is missing or
not yet built only matters when someone asks for it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


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
    # the workers find Main.py's own definitions (forked from it, or sent by value by Spark's
    # cloudpickle); elsewhere what stays in Main.py cannot be unpickled in a worker
    workers_see_main: bool = False


ALL_PATTERNS = ("mapreduce", "producer-consumer", "bag-of-tasks")
TARGETS: dict[str, TargetInfo] = {
    "local": TargetInfo(
        "local", ALL_PATTERNS, "local", "processes on this machine", workers_see_main=True
    ),
    "hadoop": TargetInfo("hadoop", ("mapreduce",), "hadoop", "Hadoop Streaming"),
    "spark": TargetInfo(
        "spark",
        ALL_PATTERNS,
        "spark",
        "PySpark, local mode or a cluster",
        requirements=True,
        workers_see_main=True,
    ),
    "docker": TargetInfo(
        "docker",
        ALL_PATTERNS,
        "docker",
        "containers on a Docker engine",
        requirements=True,
        ships_packages=True,
        worker_packages=("redis",),
    ),
}


def load_target(name: str) -> object:
    """The target's module (its ``render_files`` and ``TEMPLATE_DIR``)."""
    info = TARGETS[name]
    assert info.module is not None
    return importlib.import_module(f"{__name__}.{info.module}")
