"""The program's own modules: imports that resolve to files beside the source.

Main.py runs from the output folder, so a module the program imports from its own folder
(``import helpers`` with ``helpers.py`` next to it) is copied there too; the folder stays
self-contained. Found with ``ast`` (a cheap, read-only look), transitively.
"""

from __future__ import annotations

from pathlib import Path

from .requirements import imported_modules


def _imported_names(path: Path) -> set[str]:
    try:
        return imported_modules(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return set()  # the user's module is theirs to fix; Python will say so at run time


def _resolve(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.py", folder / name):
        if candidate.is_file() or (candidate.is_dir() and (candidate / "__init__.py").is_file()):
            return candidate
    return None


def local_modules(source: Path) -> tuple[Path, ...]:
    """Files and packages beside ``source`` that it imports, directly or through each other."""
    folder = source.resolve().parent
    found: dict[str, Path] = {}
    pending = [source.resolve()]
    while pending:
        current = pending.pop()
        files = sorted(current.rglob("*.py")) if current.is_dir() else [current]
        for file in files:
            for name in sorted(_imported_names(file)):
                if name in found or name == "toreador":
                    continue
                module = _resolve(folder, name)
                if module is not None and module != source.resolve():
                    found[name] = module
                    pending.append(module)
    return tuple(found[name] for name in sorted(found))
