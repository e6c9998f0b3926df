"""One read-only pass over the module that indexes what the analysis asks about.

libcst's scope metadata answers "what does this name refer to?"; this index adds "which
top-level statement holds this node?", the primitive calls, ``global`` declarations and places
that mutate a global in place. Built once, then only read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import (
    Access,
    CodeRange,
    GlobalScope,
    ImportAssignment,
    Scope,
)

from .fast_metadata import children, resolve

PRIMITIVES = {
    "toreador.data_parallel_region": "data_parallel_region",
    "toreador.producer_consumer": "producer_consumer",
    "toreador.bag_of_task": "bag_of_task",
}
# Methods that change a container in place: calling one on a shipped global outside the
# shipped code would leave the workers' copy different from the main program's.
MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "add",
        "discard",
        "setdefault",
        "popitem",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
    }
)


@dataclass
class FoundCall:
    """A call of a primitive, as found (the analysis turns it into a region)."""

    primitive: str
    node: cst.Call
    top: int


@dataclass
class ToreadorReference:
    """A read of one of toreador's names other than a primitive's call: ``p = dpr``,
    ``except PrimitiveUsageError``, ``toreador.bag_of_task`` passed on ("" names the module)."""

    node: cst.BaseExpression
    name: str


@dataclass
class ScopeIndex:
    module: cst.Module
    positions: dict[cst.CSTNode, CodeRange] = field(default_factory=dict)
    top_of: dict[cst.CSTNode, int] = field(default_factory=dict)
    access_of: dict[cst.Name, Access] = field(default_factory=dict)
    calls: list[FoundCall] = field(default_factory=list)
    references: list[ToreadorReference] = field(default_factory=list)
    global_decls: list[tuple[cst.Global, int]] = field(default_factory=list)
    mutations: list[tuple[cst.Name, int]] = field(default_factory=list)
    star_imports: list[cst.ImportFrom] = field(default_factory=list)
    toreador_imports: set[int] = field(default_factory=set)
    global_scope: GlobalScope | None = None
    # every identifier the program writes, in any scope (generated names must avoid them)
    names: set[str] = field(default_factory=set)
    # ids of the expressions that are called or whose attribute is read (`f(...)`, `C.m`)
    direct_uses: set[int] = field(default_factory=set)

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and column of a node."""
        where = self.positions[node].start
        return where.line, where.column + 1


class _Indexer:
    """The index's one walk over the tree, after the scope and position analyses: a plain
    walk (``_nodes``), not a libcst visitor, whose machinery alone took 16 ms of the 30 this
    pass cost on a 200-line program."""

    def __init__(self, index: ScopeIndex) -> None:
        self.index = index
        self.scopes: set[Scope] = set()
        self.calls: list[tuple[cst.Call, int]] = []
        self.attribute_of: dict[int, cst.Attribute] = {}  # id of `x` in `x.y` -> `x.y`
        self.current_top = -1
        self.seen: dict[type[cst.CSTNode], Callable[[Any], None]] = {
            cst.Name: self.visit_Name,
            cst.Attribute: self.visit_Attribute,
            cst.Call: self.visit_Call,
            cst.Global: self.visit_Global,
            cst.AssignTarget: self.visit_AssignTarget,
            cst.AugAssign: self.visit_AugAssign,
            cst.Del: self.visit_Del,
            cst.Import: self.visit_Import,
            cst.ImportFrom: self.visit_ImportFrom,
        }

    def index_module(self, module: cst.Module, scopes: Iterable[Scope | None]) -> None:
        for scope in scopes:
            if scope is not None:
                self.scopes.add(scope)
                if isinstance(scope, GlobalScope):
                    self.index.global_scope = scope
        top_of, seen = self.index.top_of, self.seen
        for top, node in _nodes(module):
            self.current_top = top
            top_of[node] = top
            visit = seen.get(type(node))
            if visit is not None:
                visit(node)
        # the walk goes field by field, not always in source order (a decorator after the
        # body): the lists the analysis reads in order are put in source order
        position = self.index.position
        self.index.mutations.sort(key=lambda mutation: position(mutation[0]))
        self.index.global_decls.sort(key=lambda declaration: position(declaration[0]))
        self.index.star_imports.sort(key=position)
        self.calls.sort(key=lambda call: position(call[0]))
        self.finish()

    def visit_Name(self, node: cst.Name) -> None:
        self.index.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attribute_of[id(node.value)] = node
        self.index.direct_uses.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append((node, self.current_top))
        self.index.direct_uses.add(id(node.func))
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in MUTATING_METHODS
        ):
            self.index.mutations.append((func.value, self.current_top))

    def visit_Global(self, node: cst.Global) -> None:
        self.index.global_decls.append((node, self.current_top))

    def _target_base(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript | cst.Attribute):
            base = target.value
            if isinstance(base, cst.Name):
                self.index.mutations.append((base, self.current_top))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target_base(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target_base(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._target_base(node.target)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if _dotted(alias.name).split(".")[0] == "toreador":
                self.index.toreador_imports.add(self.current_top)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module is not None else ""
        if module.split(".")[0] == "toreador" and not node.relative:
            self.index.toreador_imports.add(self.current_top)
            if isinstance(node.names, cst.ImportStar):
                self.index.star_imports.append(node)

    def finish(self) -> None:
        for scope in self.scopes:
            for access in scope.accesses:
                if isinstance(access.node, cst.Name):
                    self.index.access_of[access.node] = access
        called = set()
        for call, top in self.calls:
            primitive = _primitive_called(call.func, self.index.access_of)
            if primitive is not None:
                self.index.calls.append(FoundCall(primitive, call, top))
                called.add(id(call.func))
        # every other read of toreador's names: a primitive used as a value, its error class
        for name_node, access in self.index.access_of.items():
            if not any(isinstance(r, ImportAssignment) for r in access.referents):
                continue
            expression: cst.BaseExpression = self.attribute_of.get(id(name_node), name_node)
            found = toreador_name(expression, self.index.access_of)
            if found is None and expression is not name_node:
                expression = name_node  # `toreador` itself, not one of its names
                found = toreador_name(expression, self.index.access_of)
            if found is None or id(expression) in called:
                continue
            self.index.references.append(ToreadorReference(expression, found))
        self.index.references.sort(key=lambda ref: self.index.position(ref.node))


def _primitive_called(func: cst.BaseExpression, access_of: dict[cst.Name, Access]) -> str | None:
    """The primitive a call's function names, under any import form, else None."""
    name = toreador_name(func, access_of)
    return PRIMITIVES.get(f"toreador.{name}") if name else None


def toreador_name(expression: cst.BaseExpression, access_of: dict[cst.Name, Access]) -> str | None:
    """The name of toreador's an expression reads (``data_parallel_region``,
    ``PrimitiveUsageError``; "" for the module itself), under any import form, else None.

    Resolved through scope accesses (cheaper than a qualified-name pass over the whole tree):
    `f` bound by `from toreador import x as f`, or `m.x` with `m` bound by `import toreador`.
    """
    if isinstance(expression, cst.Name):
        local, attribute = expression, None
    elif isinstance(expression, cst.Attribute) and isinstance(expression.value, cst.Name):
        local, attribute = expression.value, expression.attr.value
    else:
        return None
    access = access_of.get(local)
    if access is None:
        return None
    for referent in access.referents:
        if not isinstance(referent, ImportAssignment):
            continue
        statement = referent.node
        if isinstance(statement, cst.ImportFrom) and attribute is None:
            module = _dotted(statement.module) if statement.module is not None else ""
            if (
                module != "toreador"
                or statement.relative
                or isinstance(statement.names, cst.ImportStar)
            ):
                continue
            for alias in statement.names:
                bound = alias.evaluated_alias or alias.evaluated_name
                if bound == local.value:
                    return alias.evaluated_name
        elif isinstance(statement, cst.Import):
            for alias in statement.names:
                if (
                    alias.evaluated_name == "toreador"
                    and (alias.evaluated_alias or "toreador") == local.value
                ):
                    return attribute or ""
    return None


def bound_name(alias: cst.ImportAlias) -> str:
    """The name an import binds: its `as` name, else the first part of what it imports."""
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    name: cst.BaseExpression = alias.name
    while isinstance(name, cst.Attribute):
        name = name.value
    return name.value if isinstance(name, cst.Name) else ""


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def build_index(wrapper: cst.MetadataWrapper) -> ScopeIndex:
    """Index a module once; the analysis only reads the result."""
    index = ScopeIndex(wrapper.module)
    positions, scopes = resolve(wrapper)
    # libcst gives no position to a few whitespace nodes (inside `case {}:`): not in the map
    index.positions = dict(positions)
    _Indexer(index).index_module(wrapper.module, scopes.values())
    index.calls.sort(key=lambda found: index.position(found.node))
    return index


def _nodes(module: cst.Module) -> Iterator[tuple[int, cst.CSTNode]]:
    """Every node of the module with the number of the top-level statement it is in (-1:
    the module itself, its header and footer), parents before children."""
    tops = {id(statement): number for number, statement in enumerate(module.body)}
    stack: list[tuple[int, cst.CSTNode]] = [(-1, module)]
    while stack:
        top, node = stack.pop()
        top = tops.get(id(node), top)
        yield top, node
        stack.extend((top, child) for child in reversed(children(node)))


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below ``node`` (itself included), without metadata: for read-only scans."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)
