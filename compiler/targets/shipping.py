"""What a target's workers need besides the generated files: requirements and packages.

A target whose workers run elsewhere (spark executors, docker containers) gets a
requirements.txt of what they import; docker also ships the folder-installed packages they
import, since its image cannot pip-install them. The registry says which target does what
(``requirements``, ``ships_packages``, ``worker_packages``); this module does it, so the
pipeline only writes what it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..plan import ParallelPlan
from ..registry import TARGETS
from ..render import header_lines
from ..requirements import Requirements, derive_requirements


@dataclass(frozen=True)
class Shipment:
    """requirements.txt's text (None: the target writes none) and the files of
    folder-installed packages to copy: (path under packages/, file)."""

    requirements: str | None = None
    package_files: tuple[tuple[str, Path], ...] = ()


def shipment(
    plan: ParallelPlan,
    files: dict[str, str],
    modules: tuple[Path, ...],
    folders: tuple[Path, ...] = (),
) -> Shipment:
    """What ``plan``'s target ships with the generated ``files``, the program's own
    ``modules`` and the ``folders`` it adds to sys.path (their modules are its own too);
    nothing for a program without regions (it runs sequentially)."""
    info = TARGETS[plan.target]
    if not info.requirements or not plan.regions:
        return Shipment()
    header = header_lines(
        plan.source_name,
        plan.source_sha256,
        plan.compiler_version,
        plan.target,
        "What the workers import: pip install -r requirements.txt where they run.",
    )
    in_folders = tuple(
        entry
        for folder in folders
        for entry in sorted(folder.iterdir())
        if entry.suffix == ".py" or (entry / "__init__.py").is_file()
    )
    needed = _requirements(plan, files, modules + in_folders, info.worker_packages)
    return Shipment(
        header + "\n" + needed.text(info.ships_packages),
        needed.package_files if info.ships_packages else (),
    )


def _requirements(
    plan: ParallelPlan,
    files: dict[str, str],
    modules: tuple[Path, ...],
    engine_imports: tuple[str, ...],
) -> Requirements:
    """What the workers import: the shared module, the program's own modules, and what the
    target's worker code itself imports (the docker workers' Redis client). Plus the index
    packages Main.py imports itself: it makes the items and replicated arguments, and a worker
    unpickling a DataFrame needs pandas even when no kernel imports it, and the modules of
    folder-installed packages Main.py imports (an item's class lives there, and its methods
    run in the workers)."""
    sources = [files[f"{plan.shared_module}.py"], *(f"import {name}" for name in engine_imports)]
    for module in modules:
        paths = sorted(module.rglob("*.py")) if module.is_dir() else [module]
        sources += [path.read_text(encoding="utf-8", errors="replace") for path in paths]
    own = {Path(top_entry(name)).stem for name in files} | {module.stem for module in modules}
    return derive_requirements(sources, own, pins_only=[files["Main.py"]])


def top_entry(name: str) -> str:
    """The top-level entry of a generated file's path (a runtime module: its package)."""
    return name.split("/", 1)[0]
