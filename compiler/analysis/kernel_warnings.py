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
    GlobalIterator,
    GlobalRandomState,
    Message,
    OpenFilePassed,
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
    "iterator": GlobalIterator,
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


def open_file_warnings(context: Context, regions: list[RegionCall]) -> list[Diagnostic]:
    """A replicated argument that is an open file (``log = open(...)``, ``with open(...) as
    log``): what kernels write through it is lost or out of order in forked workers, and it
    cannot be sent to the other targets' workers."""
    index = context.index
    warnings = []
    for region in regions:
        if region.value_site or not isinstance(region.node, cst.Call):
            continue
        for position, argument in enumerate(region.node.args):
            value = argument.value
            if position in region.arguments or not isinstance(value, cst.Name):
                continue
            access = index.access_of.get(value)
            if access is None or not any(
                isinstance(referent, Assignment) and _opened_file(context, referent.node)
                for referent in access.referents
            ):
                continue
            line, column = index.position(value)
            warnings.append(context.source.report(OpenFilePassed(value.value), line, column))
    return warnings


def _opened_file(context: Context, target: cst.CSTNode) -> bool:
    """Whether ``target`` is bound by ``= open(...)`` or ``with open(...) as``."""
    top = context.index.top_of.get(target, -1)
    if top < 0:
        return False
    module = context.module
    for node in walk(module.body[top]):
        value: cst.BaseExpression | None = None
        if isinstance(node, cst.Assign) and any(t.target is target for t in node.targets):
            value = node.value
        elif (
            isinstance(node, cst.WithItem)
            and node.asname is not None
            and node.asname.name is target
        ):
            value = node.item
        if isinstance(value, cst.Call):
            return module.code_for_node(value.func).strip().split(".")[-1] == "open"
    return False


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
