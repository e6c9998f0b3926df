"""Writes to globals that kernels use (TR3xx): what workers would not see.

A worker has its own copy of every shipped global, taken when the shared module is
imported. The main program rebinding or changing one afterwards, or shipped code changing
one the main program reads, would make the compiled program print something else than the
sequential one: refused, with the remedy (pass it as a replicated argument, return it).
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import Assignment, GlobalScope

from ..diagnostics import Diagnostic
from ..messages import GlobalAssignedAgain, GlobalChanged, GlobalChangedByKernel, GlobalRebound
from ..scope_index import walk
from .context import Context


def check_writes(context: Context, moved: set[int]) -> None:
    """Report rebinding or mutating a shipped global where the workers would not see it."""
    if context.global_scope is None:
        return
    shipped = _shipped_globals(context, moved)
    _reassigned(context, shipped)
    index = context.index
    for declaration, top in index.global_decls:
        for item in declaration.names:
            if top in moved and _kept_by_workers(context, item.name.value, moved):
                continue  # a per-process cache (``_MODEL = load()`` once): Main.py never reads it
            if top in moved or item.name.value in shipped:
                context.report(item.name, GlobalRebound(item.name.value, top in moved))
    for base, top in index.mutations:
        if top in moved or base.value not in shipped or _at_import(context, top, moved):
            continue
        access = index.access_of.get(base)
        if access is not None and shipped[base.value] in access.referents:
            context.report(base, GlobalChanged(base.value))
    _changed_by_kernels(context, moved)


def write_problems(context: Context, moved: set[int]) -> set[Diagnostic]:
    """The write diagnostics that shipping ``moved`` would raise (nothing is recorded)."""
    with context.errors_aside() as problems:
        check_writes(context, moved)
    return set(problems)


def _shipped_globals(context: Context, moved: set[int]) -> dict[str, Assignment]:
    """Each global a moved statement binds at module level, with its first binding."""
    assert context.global_scope is not None
    module, top_of = context.module, context.index.top_of
    shipped: dict[str, Assignment] = {}
    for assignment in context.global_scope.assignments:
        if not isinstance(assignment, Assignment):
            continue
        top = top_of.get(assignment.node, -1)
        inside_function = (
            top >= 0
            and isinstance(module.body[top], cst.FunctionDef | cst.ClassDef)
            and assignment.node is not module.body[top]
        )
        if top in moved and not inside_function:
            earlier = shipped.get(assignment.name)
            if earlier is None or top_of[earlier.node] > top:
                shipped[assignment.name] = assignment
    return shipped


def _reassigned(context: Context, shipped: dict[str, Assignment]) -> None:
    """A shipped global bound again by another module-level statement."""
    assert context.global_scope is not None
    module, top_of = context.module, context.index.top_of
    for name, assignment in shipped.items():
        home = top_of[assignment.node]
        for other in context.global_scope.assignments[name]:
            if not isinstance(other, Assignment):
                continue
            other_top = top_of.get(other.node, -1)
            if other_top in (home, -1):
                continue
            if isinstance(module.body[other_top], cst.FunctionDef | cst.ClassDef):
                continue  # a `global` declaration there: reported as TR302
            first = context.where(assignment.node)
            context.report(other.node, GlobalAssignedAgain(name, first))


def _changed_by_kernels(context: Context, moved: set[int]) -> None:
    """Shipped code (it runs in the workers) changing a global in place changes the
    worker's copy only; refused when the main program reads that global (a cache only the
    kernels read is fine)."""
    module, index = context.module, context.index
    shipped_code = {
        top for top in moved if isinstance(module.body[top], cst.FunctionDef | cst.ClassDef)
    }
    hoisted = context.hoisted_ids()
    for base, top in index.mutations:
        if top not in shipped_code and id(base) not in hoisted:
            continue
        if _at_import(context, top, moved):
            continue
        access = index.access_of.get(base)
        referents = access.referents if access is not None else ()
        if any(
            isinstance(r, Assignment)
            and isinstance(r.scope, GlobalScope)
            and any(
                index.top_of.get(read.node, -1) not in moved and id(read.node) not in hoisted
                for read in r.references
            )
            for r in referents
        ):
            context.report(base, GlobalChangedByKernel(base.value))


def _at_import(context: Context, top: int, moved: set[int]) -> bool:
    """A change made by a registrar shipped with every definition it decorates: it happens
    while the shared module is imported, alike in the main program and in every worker."""
    decorated = context.registrars().get(top)
    return decorated is not None and top in moved and decorated <= moved


def _kept_by_workers(context: Context, name: str, moved: set[int]) -> bool:
    """Whether the global ``name`` is a per-process cache built lazily by shipped code: only
    shipped code reads it, and shipped code rebinds it only as ``NAME = value`` under
    ``if NAME is None:`` (or ``if not NAME:``), with a value that reads no local (so no item
    decides it). Each process builds the same value once; the main program's view cannot
    differ, since it reads the cache only through that same code."""
    if context.global_scope is None:
        return False
    index, hoisted = context.index, context.hoisted_ids()
    assignments = context.global_scope.assignments[name]
    if not assignments:
        return False
    for assignment in assignments:
        if not isinstance(assignment, Assignment):
            return False
        nodes = [assignment.node, *(reference.node for reference in assignment.references)]
        for node in nodes:
            if index.top_of.get(node, -1) not in moved and id(node) not in hoisted:
                return False
    body = context.module.body
    for top in moved:
        statement = body[top]
        if isinstance(statement, cst.FunctionDef | cst.ClassDef) and not _lazy_only(
            context, statement, name
        ):
            return False
    return True


def _lazy_only(context: Context, definition: cst.CSTNode, name: str) -> bool:
    """Whether every rebinding of ``name`` in ``definition`` is a lazy build (see
    ``_kept_by_workers``)."""
    module = context.module
    guards = {f"{name} is None", f"not {name}"}

    def visit(node: cst.CSTNode, guarded: bool) -> bool:
        if isinstance(node, cst.If):
            test = module.code_for_node(node.test).strip()
            inner = guarded or test in guards
            return all(visit(child, inner) for child in node.body.children) and (
                node.orelse is None or visit(node.orelse, guarded)
            )
        if isinstance(node, cst.AugAssign) and _names(node.target, name):
            return False
        if isinstance(node, cst.Assign) and any(
            _names(target.target, name) for target in node.targets
        ):
            return (
                guarded
                and len(node.targets) == 1
                and isinstance(node.targets[0].target, cst.Name)
                and not _reads_a_local(context, node.value)
            )
        return all(visit(child, guarded) for child in node.children)

    return visit(definition, False)


def _names(target: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n in walk(target))


def _reads_a_local(context: Context, value: cst.CSTNode) -> bool:
    for node in walk(value):
        access = context.index.access_of.get(node) if isinstance(node, cst.Name) else None
        if access is not None and any(
            not isinstance(referent.scope, GlobalScope) for referent in access.referents
        ):
            return True
    return False
