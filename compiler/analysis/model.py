"""What analysis hands on: frozen records of the regions, the kernels and the split.

Positions (``moved``, ``copied``, ...) index ``module.body``; nodes are the parsed tree's
own, so the transformer finds them by identity.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from ..diagnostics import Diagnostic


@dataclass(frozen=True)
class Hoisted:
    """A lambda or nested function kernel, lifted to module level in the shared module."""

    name: str
    node: cst.Lambda | cst.FunctionDef
    replaces: cst.CSTNode


@dataclass(frozen=True)
class KeptDefinition:
    """A module-level function or class that stays in Main.py, and why it cannot move."""

    name: str
    node: cst.FunctionDef | cst.ClassDef
    line: int
    column: int
    reason: str


@dataclass(frozen=True)
class RegionCall:
    """One use of a primitive in the source."""

    primitive: str
    node: cst.Call | cst.BaseExpression  # the call; for a value site, the reference
    line: int
    column: int
    data: cst.BaseExpression
    kernel: cst.BaseExpression
    kernel_name: str
    nested: bool
    # where the data and the kernel are among the call's arguments, matched once (by
    # position or keyword) for analysis and transformation alike; () for a value site
    arguments: tuple[int, int] | tuple[()] = ()
    # a primitive used as a value (`p = data_parallel_region`): ``node`` is that reference,
    # and the region runs whatever data and kernel it is called with later
    value_site: bool = False


@dataclass(frozen=True)
class ModuleAnalysis:
    """What the transformer needs to know; positions index ``module.body``."""

    module: cst.Module
    regions: tuple[RegionCall, ...]
    moved: frozenset[int]
    copied: frozenset[int]
    moved_names: tuple[str, ...]
    imported_by_main: tuple[str, ...]
    hoisted: tuple[Hoisted, ...]
    toreador_imports: frozenset[int]
    future_imports: frozenset[int]
    global_names: frozenset[str]
    imports_only_shipped: frozenset[str]
    warnings: tuple[Diagnostic, ...]
    # module-level definitions left in Main.py although the program passes them as values
    kept_in_main: tuple[KeptDefinition, ...] = ()
    # every identifier the program writes, in any scope: generated names must avoid them all
    all_names: frozenset[str] = frozenset()
    # reads of toreador.PrimitiveUsageError, under any import form: the runtime's class
    error_references: tuple[cst.BaseExpression, ...] = ()
    # reads of ``__name__`` in code moved to the shared module: the program's "__main__"
    program_name_reads: tuple[cst.Name, ...] = ()
    # names bound by the toreador imports, which the compiled program no longer has
    toreador_bound: frozenset[str] = frozenset()
    # the module-level statements holding a node the transformer replaces (a region's call
    # or value, a hoisted kernel, PrimitiveUsageError, a moved ``__name__``): the others are
    # written out as they are
    rewritten_tops: frozenset[int] = frozenset()
