"""The analysis of a module, from its rule families to the frozen ``ModuleAnalysis``.

Read-only: nothing here changes the tree. Order matters and is kept here alone: find the
regions and their kernels' closure, stop on any error, then warn, ship what is harmless to
ship, check the writes of the final split, and summarise what Main.py and the shared module
each keep. Rules: docs/user-guide.md, "What a kernel may be".
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import Assignment, ImportAssignment

from ..diagnostics import Diagnostic
from ..kernel_hazards import program_name_reads
from ..messages import NoRegion
from ..scope_index import bound_name, build_index, walk
from ..source import SourceFile
from .closure import Closure
from .context import Context
from .kernel_warnings import argument_warnings, hazard_warnings, open_file_warnings
from .kernels import Kernels
from .model import KeptDefinition, ModuleAnalysis, RegionCall
from .writes import check_writes, write_problems


def analyse_module(source: SourceFile, module: cst.Module) -> ModuleAnalysis:
    """Find the regions and the kernels' closure; raise CompileError with every problem."""
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)  # analysis never mutates
    context = Context(source, build_index(wrapper))
    closure = Closure(context)
    kernels = Kernels(context, closure)
    regions = kernels.regions()
    moved, copied, _ = closure.closure(kernels.roots, report=True)
    context.raise_errors()
    warnings: list[Diagnostic] = hazard_warnings(context, moved, kernels.roots, regions)
    warnings += argument_warnings(context, regions)
    warnings += open_file_warnings(context, regions)
    kept, nested_tops = _ship_what_is_harmless(context, closure, moved, copied)
    setups = closure.path_setups(moved | copied)
    if setups:  # with what they read (a folder's name, os and sys)
        more_moved, more_copied, _ = closure.closure(setups, report=True)
        moved |= more_moved
        copied |= more_copied
        context.raise_errors()
    check_writes(context, moved)
    context.raise_errors()
    moved_names = _names_defined(context, moved)
    kept = [k for k in kept if k.name not in moved_names]
    hoisted = context.hoisted_ids()
    regions = [
        RegionCall(
            r.primitive,
            r.node,
            r.line,
            r.column,
            r.data,
            r.kernel,
            r.kernel_name,
            nested=context.top(r.node) in nested_tops or id(r.node) in hoisted,
            arguments=r.arguments,
            value_site=r.value_site,
        )
        for r in regions
    ]
    if not regions:
        warnings.append(source.report(NoRegion(), 1, 1))
    future = _future_imports(module)
    index = context.index
    name_reads = program_name_reads(
        [*(module.body[top] for top in sorted(moved)), *(h.node for h in context.hoisted)],
        index,
    )
    return ModuleAnalysis(
        module=module,
        regions=tuple(regions),
        moved=frozenset(moved),
        copied=frozenset(copied - future),
        moved_names=moved_names,
        imported_by_main=_names_defined(context, moved, still_used=True),
        hoisted=tuple(context.hoisted),
        toreador_imports=frozenset(index.toreador_imports),
        future_imports=future,
        global_names=context.global_names,
        imports_only_shipped=_imports_only_shipped(context, moved),
        warnings=tuple(warnings),
        kept_in_main=tuple(kept),
        all_names=context.all_names,
        error_references=tuple(kernels.error_references),
        program_name_reads=tuple(name_reads),
        toreador_bound=frozenset(
            bound_name(node)
            for top in index.toreador_imports
            for node in walk(module.body[top])
            if isinstance(node, cst.ImportAlias)
        ),
        rewritten_tops=frozenset(
            index.top_of.get(node, -1)
            for node in (
                *(r.node for r in regions),
                *(h.replaces for h in context.hoisted),
                *kernels.error_references,
                *name_reads,
            )
        ),
    )


def _ship_what_is_harmless(
    context: Context, closure: Closure, moved: set[int], copied: set[int]
) -> tuple[list[KeptDefinition], set[int]]:
    """Ship every other module-level class, and every function the program uses as a value,
    when that changes nothing for the main program: a kernel may reach it by value (a
    parameter, an attribute, an item, a partial), and a worker that unpickles it must find it
    under the module name it was pickled with. Functions only ever called by name stay in
    Main.py. Classes first: regions in their methods count as nested; regions in other
    shipped functions run from Main.py. Returns the definitions kept in Main.py although
    passed as values, and the statements whose regions are nested."""
    kept: list[KeptDefinition] = []
    baseline = write_problems(context, moved)
    nested_tops: set[int] = set()
    for kinds in ((cst.ClassDef,), (cst.FunctionDef,)):
        for top, statement in enumerate(context.module.body):
            if top in moved or not isinstance(statement, kinds):
                continue
            used_as_value = _used_as_value(context, statement)
            if isinstance(statement, cst.FunctionDef) and not used_as_value:
                continue
            found = closure.optional_move(top, moved, baseline)
            if isinstance(found, str):
                if used_as_value:  # else nothing can pickle it
                    line, column = context.index.position(statement.name)
                    name = statement.name.value
                    kept.append(KeptDefinition(name, statement, line, column, found))
                continue
            moved |= found[0]
            copied |= found[1]
        if kinds == (cst.ClassDef,):
            nested_tops = set(moved)
    return kept, nested_tops


def _used_as_value(context: Context, node: cst.FunctionDef | cst.ClassDef) -> bool:
    """Whether the program uses the definition other than by calling it by name (or reading
    an attribute of it, as in ``C.m(...)``)."""
    if context.global_scope is None:
        return False
    for assignment in context.global_scope.assignments[node.name.value]:
        if not isinstance(assignment, Assignment) or assignment.node is not node:
            continue
        for access in assignment.references:
            if id(access.node) not in context.index.direct_uses:
                return True
    return False


def _imports_only_shipped(context: Context, moved: set[int]) -> frozenset[str]:
    """Imported names used, but only by code that moved to the shared module: Main.py need
    not import them any more (names never used at all are left alone)."""
    if context.global_scope is None:
        return frozenset()
    hoisted = context.hoisted_ids()
    names, used_in_main = set(), set()
    for assignment in context.global_scope.assignments:
        if not isinstance(assignment, ImportAssignment) or not assignment.references:
            continue
        # `import logging.config` binds `logging`: a use of `logging.config` in Main.py
        # and of `logging.getLogger` in moved code are uses of one name
        bound = assignment.name.split(".")[0]
        if all(
            context.top(access.node) in moved or id(access.node) in hoisted
            for access in assignment.references
        ):
            names.add(bound)
        else:
            used_in_main.add(bound)
    return frozenset(names - used_in_main)


def _names_defined(context: Context, moved: set[int], still_used: bool = False) -> tuple[str, ...]:
    """Names defined by moved statements (with ``still_used``: only those that the code
    staying in Main.py uses, which Main.py imports back)."""
    if context.global_scope is None:
        return ()
    names = set()
    for assignment in context.global_scope.assignments:
        if not isinstance(assignment, Assignment | ImportAssignment):
            continue
        if context.top(assignment.node) not in moved:
            continue
        if not still_used or any(
            context.top(access.node) not in moved for access in assignment.references
        ):
            names.add(assignment.name)
    return tuple(sorted(names))


def _future_imports(module: cst.Module) -> frozenset[int]:
    return frozenset(
        i
        for i, s in enumerate(module.body)
        if isinstance(s, cst.SimpleStatementLine)
        and any(
            isinstance(x, cst.ImportFrom)
            and isinstance(x.module, cst.Name)
            and x.module.value == "__future__"
            for x in s.body
        )
    )
