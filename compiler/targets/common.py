"""What every target writes the same way: Main.py and the shared module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toreador.patterns import PATTERNS

from ..plan import ParallelPlan, RegionPlan
from ..render import header_lines, render_skeleton
from ..transform import TransformedProgram


@dataclass(frozen=True)
class RegionConstant:
    """One region as the shared module declares it: ``constant = Region(**arguments)``."""

    constant: str
    arguments: tuple[tuple[str, Any], ...]


def base_arguments(region: RegionPlan) -> list[tuple[str, Any]]:
    return [
        ("label", region.label),
        ("primitive", region.primitive),
        ("pattern", region.pattern),
        ("kernel", region.kernel),
        ("workers", region.workers),
    ]


def header_for(plan: ParallelPlan) -> Callable[[str], str]:
    def header(role: str) -> str:
        return header_lines(
            plan.source_name, plan.source_sha256, plan.compiler_version, plan.target, role
        )

    return header


def program_files(
    plan: ParallelPlan,
    program: TransformedProgram,
    runtime_module: str,
    region_arguments: Callable[[RegionPlan], list[tuple[str, Any]]] = base_arguments,
) -> dict[str, str]:
    """Main.py (always) and the shared module (when there are regions)."""
    header = header_for(plan)
    run_import = _import_as("run_region", plan.run_name)
    region_import = _import_as("Region", plan.region_class)
    error_import = _import_as("PrimitiveUsageError", plan.error_name)
    main_runtime = [run_import] * program.uses_runtime + [error_import] * program.uses_error
    shared_runtime = [
        region_import,
        *[run_import] * program.shared_uses_runtime,
        *[error_import] * program.shared_uses_error,
    ]
    # a `#!` line works only as the first line: it stays there, above the generated header
    prologue = program.main_prologue.rstrip("\n")
    shebang = ""
    if prologue.startswith("#!"):
        shebang, _, prologue = prologue.partition("\n")
        shebang += "\n"
    files = {
        "Main.py": render_skeleton(
            "common/Main.py.j2",
            {
                "header": shebang
                + header("The program itself; run it as you would run the source."),
                "prologue": prologue.strip("\n"),
                "source_name": plan.source_name,
                "leading_imports": program.main_leading_imports.rstrip("\n"),
                "runtime_imports": main_runtime,
                "runtime_module": runtime_module,
                "shared_module": plan.shared_module,
                "imports": program.main_imports,
                "body": program.main_body.rstrip("\n"),
            },
        )
    }
    if plan.regions:
        regions = [RegionConstant(r.constant, tuple(region_arguments(r))) for r in plan.regions]
        files[f"{plan.shared_module}.py"] = render_skeleton(
            "common/shared.py.j2",
            {
                "header": header("Shared definitions: imported by Main.py and by the workers."),
                "prologue": program.shared_prologue.rstrip("\n"),
                "source_name": plan.source_name,
                "runtime_imports": shared_runtime,
                "region_class": plan.region_class,
                "runtime_module": runtime_module,
                "regions": regions,
                "body": program.shared_body.rstrip("\n"),
            },
        )
    return files


def pattern_step_files(plan: ParallelPlan) -> dict[str, str]:
    """The per-batch steps of each pattern the plan uses (Mapper.py, Consumer.py, ...): the
    same files for every engine that runs batches in workers (local, spark)."""
    header = header_for(plan)
    labels = ", ".join(r.label for r in plan.regions)
    return {
        name: render_skeleton(
            f"{pattern}/steps/{name}.j2",
            {"header": header(f"The {pattern} pattern's {name[:-3]} step."), "labels": labels},
        )
        for pattern in plan.patterns
        for name in PATTERNS[pattern].files
    }


def _import_as(name: str, alias: str) -> str:
    return name if alias == name else f"{name} as {alias}"
