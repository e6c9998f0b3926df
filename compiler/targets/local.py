"""The local target: Main.py and the pattern files run as processes on this machine."""

from __future__ import annotations

from toreador.patterns import PATTERNS

from ..plan import ParallelPlan
from ..render import header_lines, render_skeleton, static_file
from ..transform import TransformedProgram

RUNTIME_MODULE = "parallel_runtime.py"


def render_files(plan: ParallelPlan, program: TransformedProgram) -> dict[str, str]:
    """File name -> content for every file this target writes (manifest aside)."""

    def header(role: str) -> str:
        return header_lines(
            plan.source_name, plan.source_sha256, plan.compiler_version, plan.target, role
        )

    files: dict[str, str] = {}
    files["Main.py"] = render_skeleton(
        "local/Main.py.j2",
        {
            "header": header("The program itself; run it as you would run the source."),
            "prologue": program.main_prologue.rstrip("\n"),
            "leading_imports": program.main_leading_imports.rstrip("\n"),
            "uses_runtime": program.uses_runtime,
            "shared_module": plan.shared_module,
            "imports": program.main_imports,
            "body": program.main_body.rstrip("\n"),
        },
    )
    if not plan.regions:
        return files
    files[f"{plan.shared_module}.py"] = render_skeleton(
        "local/shared.py.j2",
        {
            "header": header("Shared definitions: imported by Main.py and by the workers."),
            "prologue": program.shared_prologue.rstrip("\n"),
            "source_name": plan.source_name,
            "uses_runtime": program.shared_uses_runtime,
            "regions": plan.regions,
            "body": program.shared_body.rstrip("\n"),
        },
    )
    files[RUNTIME_MODULE] = (
        header("The local engine: worker processes, bounded queue, ordered results.")
        + "\n"
        + static_file("local/parallel_runtime.py.txt")
    )
    labels = ", ".join(r.label for r in plan.regions)
    for pattern in plan.patterns:
        for name in PATTERNS[pattern].files:
            files[name] = render_skeleton(
                f"{pattern}/local/{name}.j2",
                {
                    "header": header(f"The {pattern} pattern's {name[:-3]} step."),
                    "labels": labels,
                },
            )
    return files
