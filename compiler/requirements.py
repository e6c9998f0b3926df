"""What the workers' code needs installed: the distributions behind the shared module's imports.

Executors on a cluster (and, later, the docker target's image) must provide the third-party
packages the kernels import. The compiler knows the generated shared module's imports exactly;
the compiling environment knows which installed distribution provides each module and at which
version, so requirements are pinned to what the program was compiled (and checked) against.
Read with ``ast``: a look at generated text, no import is executed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass(frozen=True)
class Requirements:
    """Pinned index distributions, distributions installed from a folder, and imported names
    that no installed distribution provides (stdlib and the program's own modules aside)."""

    pinned: tuple[str, ...]
    local: tuple[str, ...]
    missing: tuple[str, ...]
    # the modules of folder-installed packages the workers import, as (path relative to the
    # package's sys.path entry, file): what a target that ships them copies
    package_files: tuple[tuple[str, Path], ...] = ()

    def text(self, shipped: bool = False) -> str:
        """requirements.txt: pins first; what pip cannot fetch is said in comments."""
        lines = list(self.pinned)
        why = "its modules are copied into packages/" if shipped else "ship it yourself"
        lines += [f"# installed from a local folder here, {why}: {n}" for n in self.local]
        lines += [
            f"# imported but not installed where this was compiled: {n}" for n in self.missing
        ]
        return "\n".join(lines) + "\n" if lines else "# no third-party packages\n"


def imported_modules(source: str | bytes) -> set[str]:
    """Top-level names of every absolute import in ``source``, at any depth (also what finds
    the program's own modules beside it, in local_modules)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _dotted_imports(source: str | bytes, package: str) -> set[str]:
    """Dotted names of every import in ``source`` (a module of ``package``), relative ones
    resolved; ``from a import b`` gives ``a`` and ``a.b`` (b may be a submodule)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                base = parts[: len(parts) - node.level + 1] if node.level <= len(parts) else []
                if not base:
                    continue
                module = ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                module = node.module
            else:
                continue
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of a module under a package root folder, found without importing anything."""
    base = root.joinpath(*dotted.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _package_closure(sources: Iterable[str], tops: set[str]) -> tuple[dict[str, Path], set[str]]:
    """The modules of the packages ``tops`` that ``sources`` import, followed through the
    packages' own imports: the files (by relative path) and the other top-level names."""
    roots: dict[str, Path] = {}
    for top in tops:
        spec = importlib.util.find_spec(top)  # a top-level name: nothing is executed
        if spec is not None and spec.submodule_search_locations:
            roots[top] = Path(next(iter(spec.submodule_search_locations)))
    wanted = [name for source in sources for name in _dotted_imports(source, "")]
    files: dict[str, Path] = {}
    others: set[str] = set()
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        top = name.split(".")[0]
        if name in seen or top not in roots:
            continue
        seen.add(name)
        path = _module_file(roots[top], name)
        if path is None:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts)):  # the packages on the way: their __init__ runs
            wanted.append(".".join(parts[:depth]))
        files[path.relative_to(roots[top].parent).as_posix()] = path
        package = name if path.name == "__init__.py" else ".".join(parts[:-1])
        try:
            found = _dotted_imports(path.read_bytes(), package)
        except (SyntaxError, ValueError, OSError):
            continue
        for dotted in found:
            (
                wanted.append(dotted)
                if dotted.split(".")[0] in roots
                else others.add(dotted.split(".")[0])
            )
    return files, others


def _installed_from_folder(distribution: metadata.Distribution) -> bool:
    """Editable or path installs (PEP 610 direct_url.json with dir_info): not on an index."""
    text = distribution.read_text("direct_url.json")
    if not text:
        return False
    try:
        return "dir_info" in json.loads(text)
    except ValueError:
        return False


def _imported(sources: Iterable[str]) -> set[str]:
    imported: set[str] = set()
    for source in sources:
        try:
            imported |= imported_modules(source)
        except (SyntaxError, ValueError):
            continue  # the program's own module, broken: Python will say so where it runs
    return imported


def derive_requirements(
    sources: Iterable[str], own_modules: Iterable[str], pins_only: Iterable[str] = ()
) -> Requirements:
    """The requirements of code made of ``sources``, whose own modules are ``own_modules``.
    Of ``pins_only`` (code that imports, but whose imports the workers need only to unpickle
    its objects), the index packages are pinned too, and the modules of folder-installed
    packages it imports are shipped with what they import in turn (a class of an item lives
    there); its unresolvable names are not reported."""
    sources, pins_only = list(sources), list(pins_only)
    imported, pin_imported = _imported(sources), _imported(pins_only)
    skipped = set(sys.stdlib_module_names) | set(own_modules) | {"__future__", "toreador"}
    providers = metadata.packages_distributions()
    pinned: set[str] = set()
    local: set[str] = set()
    local_tops: set[str] = set()
    missing: set[str] = set()

    def classify(names: Iterable[str], pin_only: bool = False) -> None:
        for name in sorted(names):
            found = providers.get(name, [])
            if not found and not pin_only:
                missing.add(name)
            for distribution_name in found:
                distribution = metadata.distribution(distribution_name)
                canonical = distribution.metadata["Name"]
                # every copy on the path counts: a source checkout's egg-info may come first
                copies = metadata.distributions(name=distribution_name)
                if any(_installed_from_folder(copy) for copy in copies):
                    # shipped, even when only the main program imports it: its objects
                    # (items, arguments) are unpickled by the workers, their classes with them
                    local.add(canonical)
                    local_tops.add(name)
                else:
                    pinned.add(f"{canonical}=={distribution.version}")

    classify(imported - skipped)
    classify(pin_imported - imported - skipped, pin_only=True)
    files: dict[str, Path] = {}
    if local_tops:  # what the used modules of folder-installed packages import, in turn
        files, others = _package_closure([*sources, *pins_only], set(local_tops))
        classify(others - skipped - imported - local_tops)
    return Requirements(
        tuple(sorted(pinned, key=str.lower)),
        tuple(sorted(local)),
        tuple(sorted(missing)),
        tuple(sorted(files.items())),
    )
