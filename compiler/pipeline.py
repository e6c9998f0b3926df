"""The compile pipeline: parse -> analyse -> plan -> render -> write. The CLI only calls this."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst as cst

from .analysis import analyse_module
from .deep_stack import with_deep_stack
from .deploy_model import DeployModel
from .diagnostics import CompileError, Diagnostic
from .local_modules import local_modules
from .messages import CannotParse, KeptDefinitionPassed, ModuleClash, PathFolderNotFollowed
from .path_folders import path_folders
from .plan import ParallelPlan, plan_program
from .render import format_python
from .source import SourceFile, parse_source
from .targets import TARGETS, load_target
from .targets.common import RUNTIME_PACKAGE
from .targets.shipping import shipment, top_entry
from .transform import transform_program


@dataclass(frozen=True)
class CompiledProgram:
    """The result of compiling one source: files by name, the plan, and warnings."""

    plan: ParallelPlan
    files: dict[str, str]
    warnings: tuple[Diagnostic, ...]
    local_modules: tuple[Path, ...] = ()
    # folders the program adds to sys.path, copied under the same relative path
    path_folders: tuple[tuple[str, Path], ...] = ()
    # files of folder-installed packages the workers import: (path under packages/, file)
    package_files: tuple[tuple[str, Path], ...] = ()


def compile_source(
    source: SourceFile, pattern: str, target: str, model: DeployModel
) -> CompiledProgram:
    """Compile in memory (no formatting, no disk): what the tests and the writer share.
    On a deep stack: CPython runs programs nested deeper than the default recursion limit
    lets a tree walk go (150 nested calls, 500 adjacent strings), and so must the compiler."""
    try:
        return with_deep_stack(_compile, source, pattern, target, model)
    except RecursionError:
        message = CannotParse("the program nests too deeply for the compiler's tree walks")
        raise CompileError([message.at(source.display_name)]) from None


def _compile(source: SourceFile, pattern: str, target: str, model: DeployModel) -> CompiledProgram:
    module = parse_source(source)
    analysis = analyse_module(source, module)
    plan = plan_program(source, analysis, pattern, target, model)
    program = transform_program(analysis, plan)
    render_files = load_target(target).render_files  # type: ignore[attr-defined]
    files: dict[str, str] = render_files(plan, program)
    modules = local_modules(source.path) if source.path.is_file() else ()
    added = path_folders(source.path, source.text) if source.path.is_file() else []
    folders = tuple(
        (folder.relative.as_posix(), source.path.resolve().parent / folder.relative)
        for folder in added
        if folder.relative is not None and folder.relative.parts
    )
    generated = {Path(top_entry(name)).stem for name in files}
    clashes = [m for m in modules if m.stem in generated]
    if clashes:
        names = ", ".join(sorted(m.name for m in clashes))
        raise CompileError([ModuleClash(names).at(source.display_name)])
    shipped = shipment(plan, files, modules, tuple(path for _, path in folders))
    if shipped.requirements is not None:
        files["requirements.txt"] = shipped.requirements
    warnings = analysis.warnings + tuple(
        source.report(PathFolderNotFollowed(folder.shown), folder.line, folder.column)
        for folder in added
        if folder.relative is None and plan.regions
    )
    if plan.regions and not TARGETS[target].workers_see_main:
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
    return CompiledProgram(
        plan,
        files,
        warnings,
        modules,
        package_files=shipped.package_files,
        path_folders=folders,
    )


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
        "copied_folders": [relative for relative, _ in compiled.path_folders],
        "shipped_packages": sorted({f"packages/{name}" for name, _ in compiled.package_files}),
        "runtime": sorted(name for name in compiled.files if name.startswith(RUNTIME_PACKAGE)),
        "files": sorted({*map(top_entry, compiled.files), "manifest.json", "ruff.toml"}),
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
    for relative, folder in compiled.path_folders:  # found by the program's sys.path entry
        shutil.copytree(
            folder,
            out_dir / relative,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
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
