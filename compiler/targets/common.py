"""What every target writes the same way: Main.py, the shared module, the runtime's copy."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toreador.patterns import PATTERNS
from toreador.runtime.semantics import RegionRecord

from ..plan import ParallelPlan, RegionPlan
from ..registry import TARGETS
from ..render import header_lines, render_skeleton, runtime_source
from ..transform import TransformedProgram

# The runtime's copy in a generated folder: a package of its own name, so that it never
# meets an installed toreador (or its version) where the program runs.
RUNTIME_PACKAGE = "toreador_runtime"


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
        ("max_attempts", region.max_attempts),
    ]


def model_arguments(
    region: RegionPlan, record: type, section: object, derived: dict[str, Any] | None = None
) -> list[tuple[str, Any]]:
    """A region record's arguments: the plan's base fields, then each setting of the
    engine's record (a dataclass extending RegionRecord) from the deployment model's section
    field of the same name, or from ``derived`` (what the compiler computes). A setting
    named in neither is a bug here, not in the user's program."""
    base = {f.name for f in dataclasses.fields(RegionRecord)}
    arguments = base_arguments(region)
    for setting in dataclasses.fields(record):
        if setting.name in base:
            continue
        if derived is not None and setting.name in derived:
            arguments.append((setting.name, derived[setting.name]))
        else:
            arguments.append((setting.name, getattr(section, setting.name)))
    return arguments


def header_for(plan: ParallelPlan) -> Callable[[str], str]:
    def header(role: str) -> str:
        return header_lines(
            plan.source_name, plan.source_sha256, plan.compiler_version, plan.target, role
        )

    return header


def runtime_files(target: str) -> dict[str, str]:
    """The runtime modules the target's engine needs, copied verbatim (see toreador.runtime)."""
    return {
        f"{RUNTIME_PACKAGE}/{module}.py": runtime_source(module)
        for module in TARGETS[target].runtime
    }


def program_files(
    plan: ParallelPlan,
    program: TransformedProgram,
    region_arguments: Callable[[RegionPlan], list[tuple[str, Any]]] = base_arguments,
) -> dict[str, str]:
    """Main.py (always); the shared module and the runtime (when there are regions)."""
    runtime_module = f"{RUNTIME_PACKAGE}.{TARGETS[plan.target].engine}"
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
        files.update(runtime_files(plan.target))
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
