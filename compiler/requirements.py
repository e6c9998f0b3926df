"""What the workers' code needs installed: the distributions behind the shared module's imports.

Executors on a cluster (and, later, the docker target's image) must provide the third-party
packages the kernels import. The compiler knows the generated shared module's imports exactly;
the compiling environment knows which installed distribution provides each module and at which
version, so requirements are pinned to what the program was compiled (and checked) against.
Read with ``ast``: a look at generated text, no import is executed.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class Requirements:
    """Pinned index distributions, distributions installed from a folder, and imported names
    that no installed distribution provides (stdlib and the program's own modules aside)."""

    pinned: tuple[str, ...]
    local: tuple[str, ...]
    missing: tuple[str, ...]

    def text(self) -> str:
        """requirements.txt: pins first; what pip cannot fetch is said in comments."""
        lines = list(self.pinned)
        lines += [
            f"# installed from a local folder here, ship it yourself: {n}" for n in self.local
        ]
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


def _installed_from_folder(distribution: metadata.Distribution) -> bool:
    """Editable or path installs (PEP 610 direct_url.json with dir_info): not on an index."""
    text = distribution.read_text("direct_url.json")
    if not text:
        return False
    try:
        return "dir_info" in json.loads(text)
    except ValueError:
        return False


def derive_requirements(sources: Iterable[str], own_modules: Iterable[str]) -> Requirements:
    """The requirements of code made of ``sources``, whose own modules are ``own_modules``."""
    imported: set[str] = set()
    for source in sources:
        try:
            imported |= imported_modules(source)
        except (SyntaxError, ValueError):
            continue  # the program's own module, broken: Python will say so where it runs
    skipped = set(sys.stdlib_module_names) | set(own_modules) | {"__future__", "toreador"}
    providers = metadata.packages_distributions()
    pinned: set[str] = set()
    local: set[str] = set()
    missing: set[str] = set()
    for name in sorted(imported - skipped):
        found = providers.get(name, [])
        if not found:
            missing.add(name)
        for distribution_name in found:
            distribution = metadata.distribution(distribution_name)
            canonical = distribution.metadata["Name"]
            # every copy on the path counts: a source checkout's egg-info may come first
            copies = metadata.distributions(name=distribution_name)
            if any(_installed_from_folder(copy) for copy in copies):
                local.add(canonical)
            else:
                pinned.add(f"{canonical}=={distribution.version}")
    return Requirements(
        tuple(sorted(pinned, key=str.lower)), tuple(sorted(local)), tuple(sorted(missing))
    )
