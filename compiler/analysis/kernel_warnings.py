"""Warnings about what kernels use or change (TR4xx): compiled, but it may not behave alike.

The program is still compiled (the user may know it is harmless, e.g. a random draw that
only jitters a sleep), but the difference is named where it is: the global random state,
standard input, the module's identity (``kernel_hazards`` finds the uses), and a kernel
changing its own argument in place.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
from libcst.metadata import Assignment

from ..diagnostics import Diagnostic
from ..kernel_hazards import hazards
from ..messages import (
    ArgumentChangedInPlace,
    GlobalRandomState,
    Message,
    ReadsModuleIdentity,
    ReadsStandardInput,
)
from ..scope_index import walk
from .context import Context
from .model import RegionCall

_HAZARDS: dict[str, Callable[[str, str], Message]] = {
    "random": GlobalRandomState,
    "stdin": ReadsStandardInput,
    "identity": ReadsModuleIdentity,
}


def hazard_warnings(
    context: Context, moved: set[int], roots: dict[int, str], regions: list[RegionCall]
) -> list[Diagnostic]:
    """Where the code kernels run uses what no worker can give it as the sequential run
    did: global random state, standard input, the module's identity."""
    module, index = context.module, context.index
    shipped: list[cst.CSTNode] = [module.body[top] for top in sorted(moved)]
    shipped += [h.node for h in context.hoisted]
    labels = {
        id(node): f"kernel '{context.kernel_name(h.replaces)}'"
        for h in context.hoisted
        if isinstance(h.replaces, cst.BaseExpression)
        for node in walk(h.node)
    }
    for region in regions:  # the kernel expression itself, e.g. `input`
        for node in walk(region.kernel):
            labels.setdefault(id(node), f"kernel '{region.kernel_name}'")
    hoisted = context.hoisted_ids()
    warnings = []
    for use in hazards([*shipped, *(r.kernel for r in regions)], index):
        top = index.top_of.get(use.node, -1)
        if use.kind == "identity" and top not in moved and id(use.node) not in hoisted:
            continue  # evaluated in Main.py, where it reads as in the source
        line, column = index.position(use.node)
        who = labels.get(id(use.node)) or roots.get(top) or "code that kernels run"
        message = _HAZARDS[use.kind](who, use.name.removeprefix("builtins."))
        warnings.append(context.source.report(message, line, column))
    return warnings


def argument_warnings(context: Context, regions: list[RegionCall]) -> list[Diagnostic]:
    """Kernels that change an argument in place (an item, a replicated argument): the
    sequential program sees the change, the workers change copies."""
    kernels: dict[int, tuple[cst.FunctionDef, str]] = {}
    for region in regions:
        for definition in _kernel_definitions(context, region.kernel):
            kernels.setdefault(id(definition), (definition, region.kernel_name))
    index = context.index
    warnings = []
    for definition, kernel_name in kernels.values():
        inside = {id(node) for node in walk(definition.body)}
        parameters = _parameters(definition)
        for base, _top in index.mutations:
            if id(base) not in inside:
                continue
            access = index.access_of.get(base)
            referents = access.referents if access is not None else ()
            if any(
                isinstance(r, Assignment)
                and isinstance(r.node, cst.Param)
                and any(r.node is p for p in parameters)
                for r in referents
            ):
                line, column = index.position(base)
                message = ArgumentChangedInPlace(kernel_name, base.value)
                warnings.append(context.source.report(message, line, column))
    return warnings


def _kernel_definitions(context: Context, kernel: cst.BaseExpression) -> list[cst.FunctionDef]:
    """The functions a kernel expression names directly (module-level or hoisted)."""
    found = [
        h.node
        for h in context.hoisted
        if h.replaces is kernel and isinstance(h.node, cst.FunctionDef)
    ]
    if isinstance(kernel, cst.Name):
        access = context.index.access_of.get(kernel)
        for referent in access.referents if access is not None else ():
            if isinstance(referent, Assignment) and isinstance(referent.node, cst.FunctionDef):
                found.append(referent.node)
    return found


def _parameters(definition: cst.FunctionDef) -> list[cst.Param]:
    params = definition.params
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    kwargs = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *kwargs]
