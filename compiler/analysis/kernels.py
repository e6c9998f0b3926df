"""Regions and kernels (TR1xx): each use of a primitive and what its kernel needs.

A kernel is a module-level function or class, an imported or builtin callable, a lambda or
nested function that closes over no local (hoisted to module level), or any other
expression evaluated in the main program. Its needs are the module-level statements it
reads (the roots of the closure); a lambda or nested function reading a local is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import libcst as cst
from libcst.metadata import Assignment, BuiltinAssignment, BuiltinScope, GlobalScope

from ..messages import (
    IndirectArguments,
    KernelClosesOverLocal,
    RegionBeforeDefinition,
    StarImport,
    UndefinedKernel,
    UnknownToreadorName,
)
from ..scope_index import PRIMITIVES, FoundCall, walk
from .arguments import match_arguments
from .closure import Closure
from .context import Context
from .model import Hoisted, RegionCall


class Kernels:
    """Finds the regions of a module; ``roots`` collects what their kernels need."""

    def __init__(self, context: Context, closure: Closure) -> None:
        self.context, self.closure = context, closure
        self.roots: dict[int, str] = {}  # statement -> who needs it first
        self.error_references: list[cst.BaseExpression] = []

    def regions(self) -> list[RegionCall]:
        """Every primitive call and primitive used as a value, in source order."""
        context = self.context
        for star in context.index.star_imports:
            context.report(star, StarImport())
        regions: list[RegionCall] = []
        for call in context.index.calls:
            region, needed = self._region(call)
            if region is not None:
                regions.append(region)
                self._before_definitions(region, needed)
                for top, label in needed.items():
                    self.roots.setdefault(top, label)
        for reference in context.index.references:
            primitive = PRIMITIVES.get(f"toreador.{reference.name}")
            node = reference.node
            if primitive is not None:
                line, column = context.index.position(node)
                given = "(given when called)"
                regions.append(
                    RegionCall(
                        primitive, node, line, column, node, node, given, False, value_site=True
                    )
                )
            elif reference.name == "PrimitiveUsageError":
                self.error_references.append(node)
            else:
                context.report(node, UnknownToreadorName(context.module.code_for_node(node)))
        return sorted(regions, key=lambda r: (r.line, r.column))

    def _region(self, call: FoundCall) -> tuple[RegionCall | None, dict[int, str]]:
        node = call.node
        arguments = match_arguments(node, call.primitive)
        if arguments is None:
            self.context.report(node, IndirectArguments(call.primitive))
            return None, {}
        data, kernel = (node.args[i].value for i in arguments)
        roots: dict[int, str] = {}
        kernels: list[cst.BaseExpression] = [kernel]
        if call.primitive == "bag_of_task" and isinstance(kernel, cst.List | cst.Tuple):
            kernels = [e.value for e in kernel.elements if isinstance(e, cst.Element)]
        for expression in kernels:
            self._kernel(expression, roots)
        line, column = self.context.index.position(node)
        name = self.context.kernel_name(kernel)
        region = RegionCall(
            call.primitive, node, line, column, data, kernel, name, False, arguments
        )
        return region, roots

    def _kernel(self, kernel: cst.BaseExpression, roots: dict[int, str]) -> None:
        label = f"kernel '{self.context.kernel_name(kernel)}'"
        if isinstance(kernel, cst.Lambda):
            self._hoist(kernel, kernel, roots, label)
            return
        access_of = self.context.index.access_of
        if isinstance(kernel, cst.Name):
            access = access_of.get(kernel)
            referents = access.referents if access is not None else set()
            if not referents:
                self.context.report(kernel, UndefinedKernel(kernel.value))
                return
            if all(isinstance(r.scope, GlobalScope | BuiltinScope) for r in referents):
                self._global_roots(referents, roots, label)
                return
            local = [r for r in referents if not isinstance(r.scope, GlobalScope | BuiltinScope)]
            definition = self._single_local_function(local)
            if definition is not None:
                self._hoist(definition, kernel, roots, label)
                return
        # Any other expression is evaluated in the main program; the module-level
        # definitions it names still have to exist on the workers' side.
        for name in names_in(kernel):
            access = access_of.get(name)
            if access is not None:
                self._global_roots(access.referents, roots, label)

    def _global_roots(self, referents: Iterable[object], roots: dict[int, str], label: str) -> None:
        for referent in referents:
            if isinstance(referent, Assignment) and isinstance(referent.scope, GlobalScope):
                top = self.context.index.top_of[referent.node]
                roots.setdefault(top, label)
                self.closure.root_nodes.setdefault(top, referent.node)

    def _single_local_function(
        self, local: Sequence[object]
    ) -> cst.Lambda | cst.FunctionDef | None:
        if len(local) != 1 or not isinstance(local[0], Assignment):
            return None
        node = local[0].node
        if isinstance(node, cst.FunctionDef):
            return node
        parent = self._assign_value(node)
        return parent if isinstance(parent, cst.Lambda) else None

    def _assign_value(self, target: cst.CSTNode) -> cst.BaseExpression | None:
        top = self.context.top(target)
        if top < 0:
            return None
        for node in walk(self.context.module.body[top]):
            if isinstance(node, cst.Assign) and any(t.target is target for t in node.targets):
                return node.value
        return None

    def _hoist(
        self,
        definition: cst.Lambda | cst.FunctionDef,
        replaces: cst.CSTNode,
        roots: dict[int, str],
        label: str,
    ) -> None:
        context = self.context
        inside = {id(n) for n in walk(definition)}
        captured: list[cst.Name] = []
        for name in names_in(definition):
            access = context.index.access_of.get(name)
            if access is None:
                continue
            for referent in access.referents:
                if isinstance(referent, BuiltinAssignment) or isinstance(
                    referent.scope, BuiltinScope
                ):
                    continue
                if isinstance(referent.scope, GlobalScope):
                    if isinstance(referent, Assignment):
                        roots.setdefault(context.index.top_of[referent.node], label)
                    continue
                if id(getattr(referent, "node", None)) not in inside:
                    captured.append(name)
        if captured:
            kind = "lambda" if isinstance(definition, cst.Lambda) else "nested function"
            context.report(captured[0], KernelClosesOverLocal(label, kind, captured[0].value))
            return
        for earlier in context.hoisted:
            if earlier.node is definition:
                context.hoisted.append(Hoisted(earlier.name, definition, replaces))
                return
        line = context.index.position(definition)[0]
        if isinstance(definition, cst.Lambda):
            base = f"lambda_line_{line}"
        else:
            # A new name: the nested definition stays where it is in Main.py, and its local
            # name there would shadow an import of the same name.
            base = f"{definition.name.value}_line_{line}"
        taken = context.all_names | {h.name for h in context.hoisted}
        hoisted_name = base
        while hoisted_name in taken:
            hoisted_name += "_"
        context.hoisted.append(Hoisted(hoisted_name, definition, replaces))

    def _before_definitions(self, region: RegionCall, needed: dict[int, str]) -> None:
        """Refuse a region that module-level code runs before a definition its kernel needs:
        the sequential program stops there with NameError, the shared module would not."""
        context = self.context
        top = context.top(region.node)
        if top < 0 or isinstance(context.module.body[top], cst.FunctionDef | cst.ClassDef):
            return  # runs when its function is called, after the module has been read
        moved, _, _ = self.closure.closure(needed, report=False)  # records nothing
        late = sorted(t for t in moved if t > top)
        if late:
            what = context.describe(late[0])
            if isinstance(context.module.body[late[0]], cst.FunctionDef | cst.ClassDef):
                what += f" ({context.where(context.module.body[late[0]])})"
            context.report(region.node, RegionBeforeDefinition(what, region.kernel_name))


def names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    return (n for n in walk(node) if isinstance(n, cst.Name))
