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


ALL_PATTERNS = ("mapreduce", "producer-consumer", "bag-of-tasks")
TARGETS: dict[str, TargetInfo] = {
    "local": TargetInfo("local", ALL_PATTERNS, "local", "processes on this machine"),
    "hadoop": TargetInfo("hadoop", ("mapreduce",), "hadoop", "Hadoop Streaming"),
    "spark": TargetInfo(
        "spark", ALL_PATTERNS, "spark", "PySpark, local mode or a cluster", requirements=True
    ),
    "docker": TargetInfo("docker", ALL_PATTERNS, None, "containers on a Docker engine"),
}


def load_target(name: str) -> object:
    """The target's module (its ``render_files`` and ``TEMPLATE_DIR``)."""
    info = TARGETS[name]
    assert info.module is not None
    return importlib.import_module(f"{__name__}.{info.module}")
