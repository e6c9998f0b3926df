"""The targets (platforms): one module per target, loaded by name when a compile needs it.

Like mrjob's runners: imported lazily, so an engine that is missing or not yet built only
matters when someone asks for it. What is known of each target before that is the registry
(``compiler/registry.py``), re-exported here.
"""

from __future__ import annotations

import importlib

from ..registry import ALL_PATTERNS, TARGETS, TargetInfo

__all__ = ["ALL_PATTERNS", "TARGETS", "TargetInfo", "load_target"]


def load_target(name: str) -> object:
    """The target's module (its ``render_files`` and ``TEMPLATE_DIR``)."""
    info = TARGETS[name]
    assert info.module is not None
    return importlib.import_module(f"{__name__}.{info.module}")
