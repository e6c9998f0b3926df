"""The compile pipeline: parse -> analyse -> plan -> render -> write. The CLI only calls this."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst

from .analysis import analyse_module
from .deploy_model import DeployModel
from .diagnostics import CompileError, Diagnostic
from .local_modules import local_modules
from .messages import KeptDefinitionPassed, ModuleClash
from .plan import ParallelPlan, plan_program
from .render import format_python, header_lines
from .requirements import Requirements, derive_requirements
from .source import SourceFile, parse_source
from .targets import TARGETS, load_target
from .targets.common import RUNTIME_PACKAGE
from .transform import transform_program


@dataclass(frozen=True)
class CompiledProgram:
    """The result of compiling one source: files by name, the plan, and warnings."""

    plan: ParallelPlan
    files: dict[str, str]
    warnings: tuple[Diagnostic, ...]
    local_modules: tuple[Path, ...] = ()
    # files of folder-installed packages the workers import: (path under packages/, file)
    package_files: tuple[tuple[str, Path], ...] = ()


def compile_source(
    source: SourceFile, pattern: str, target: str, model: DeployModel
) -> CompiledProgram:
    """Compile in memory (no formatting, no disk): what the tests and the writer share."""
    module = parse_source(source)
    analysis = analyse_module(source, module)
    plan = plan_program(source, analysis, pattern, target, model)
    program = transform_program(analysis, plan)
    render_files = load_target(target).render_files  # type: ignore[attr-defined]
    files: dict[str, str] = render_files(plan, program)
    modules = local_modules(source.path) if source.path.is_file() else ()
    generated = {Path(_top(name)).stem for name in files}
    clashes = [m for m in modules if m.stem in generated]
    if clashes:
        names = ", ".join(sorted(m.name for m in clashes))
        raise CompileError([ModuleClash(names).at(source.display_name)])
    info = TARGETS[target]
    package_files: tuple[tuple[str, Path], ...] = ()
    if info.requirements and plan.regions:
        header = header_lines(
            plan.source_name,
            plan.source_sha256,
            plan.compiler_version,
            plan.target,
            "What the workers import: pip install -r requirements.txt where they run.",
        )
        needed = _requirements(plan, files, modules, info.worker_packages)
        files["requirements.txt"] = header + "\n" + needed.text(info.ships_packages)
        if info.ships_packages:
            package_files = needed.package_files
    warnings = analysis.warnings
    if plan.regions and not info.workers_see_main:
        warnings += tuple(
            source.report(
                KeptDefinitionPassed(
                    "class" if isinstance(kept.node, cst.ClassDef) else "function",
                    kept.name,
                    kept.reason,
                    target,
                ),
                kept.line,
                kept.column,
            )
            for kept in analysis.kept_in_main
        )
    return CompiledProgram(plan, files, warnings, modules, package_files)


def _requirements(
    plan: ParallelPlan,
    files: dict[str, str],
    modules: tuple[Path, ...],
    engine_imports: tuple[str, ...] = (),
) -> Requirements:
    """What the workers import: the shared module, the program's own modules, and what the
    target's worker code itself imports (the docker workers' Redis client). Plus the index
    packages Main.py imports itself: it makes the items and replicated arguments, and a worker
    unpickling a DataFrame needs pandas even when no kernel imports it. (Main.py's imports of
    folder-installed packages are not followed: those ship only the modules kernels use.)"""
    sources = [files[f"{plan.shared_module}.py"], *(f"import {name}" for name in engine_imports)]
    for module in modules:
        paths = sorted(module.rglob("*.py")) if module.is_dir() else [module]
        sources += [path.read_text(encoding="utf-8", errors="replace") for path in paths]
    own = {Path(_top(name)).stem for name in files} | {module.stem for module in modules}
    return derive_requirements(sources, own, pins_only=[files["Main.py"]])


def _top(name: str) -> str:
    """The top-level entry of a generated file's path (a runtime module: its package)."""
    return name.split("/", 1)[0]


def manifest(compiled: CompiledProgram) -> dict[str, Any]:
    """manifest.json: the regions, pattern(s), target, files and provenance."""
    plan = compiled.plan
    return {
        "compiler": "toreador",
        "compiler_version": plan.compiler_version,
        "source": {"file": plan.source_name, "sha256": plan.source_sha256},
        "target": plan.target,
        "patterns": list(plan.patterns),
        "shared_module": f"{plan.shared_module}.py" if plan.regions else None,
        "regions": [
            {
                "file": plan.source_name,
                "line": r.line,
                "column": r.column,
                "location": f"{plan.source_name}:{r.line}",
                "primitive": r.primitive,
                "kernel": r.kernel,
                "pattern": r.pattern,
                "target": plan.target,
                "nested": r.nested,
                "workers": r.workers or "cores",
            }
            for r in plan.regions
        ],
        "copied_modules": [m.name for m in compiled.local_modules],
        "shipped_packages": sorted({f"packages/{name}" for name, _ in compiled.package_files}),
        "runtime": sorted(name for name in compiled.files if name.startswith(RUNTIME_PACKAGE)),
        "files": sorted({*map(_top, compiled.files), "manifest.json", "ruff.toml"}),
    }


def write_output(compiled: CompiledProgram, out_dir: Path) -> list[Path]:
    """Write the files, format them, and drop files a previous compile left behind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    old_manifest = out_dir / "manifest.json"
    stale: set[str] = set()
    if old_manifest.exists():
        try:
            stale = set(json.loads(old_manifest.read_text(encoding="utf-8")).get("files", []))
        except (ValueError, OSError):
            stale = set()
    # the runtime's copy is the compiler's own, whole: an earlier compile's modules go
    shutil.rmtree(out_dir / RUNTIME_PACKAGE, ignore_errors=True)
    written = []
    for name, content in compiled.files.items():
        path = out_dir / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(content, encoding="utf-8")
        if path.suffix == ".sh" or content.startswith("#!"):  # scripts run as they are
            path.chmod(0o755)
        written.append(path)
    # the runtime is copied as it is (formatted already): its files match the package's
    format_python(out_dir, [p for p in written if p.suffix == ".py" and p.parent == out_dir])
    for module in compiled.local_modules:  # copied as they are: they are the user's files
        target = out_dir / module.name
        if module.is_dir():
            shutil.copytree(
                module, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(module, target)
    for relative, file in compiled.package_files:  # the workers' copies, as they are
        target = out_dir / "packages" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    data = manifest(compiled)
    (out_dir / "manifest.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for name in stale - set(data["files"]):
        leftover = out_dir / name
        if leftover.is_file() and leftover.parent == out_dir:
            leftover.unlink()
    return written
