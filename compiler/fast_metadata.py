"""The libcst metadata the compiler reads (positions, expression contexts, scopes), computed
faster: through libcst's visitors they were over half of a web compile's time.

Positions: libcst's ``PositionProvider``. The positions are libcst's own (the same code
generation walks the tree and records the same ranges); only the bookkeeping is cheaper:
libcst's state splits every token with a regular expression to count its newlines and records
each syntactic range through a generator-based context manager; a token without a line break
(nearly all of them) only moves the column, and a small class does the context manager's job:
positions from 17 ms to 12.

Expression contexts (load, store, delete), which libcst's scope analysis reads:
``expression_contexts`` gives what ``ExpressionContextProvider`` gives, by the same rules,
with a plain walk instead of a libcst visitor per assignment target: about half the time
(checked equal to libcst's on 714 modules).

Scopes: libcst's ``ScopeProvider`` itself, run directly: through the wrapper, it runs inside a
batched visit that then walks the whole tree again for nothing (about 16 ms).

These read libcst's internals (``_metadata``, ``_computed``, the providers' code generation
hooks): the project pins libcst's minor version, and tests compare the results with libcst's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

import libcst as cst
from libcst import CSTNode, Module
from libcst._position import CodePosition, CodeRange
from libcst.metadata import (
    BaseMetadataProvider,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)
from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState


class _Syntactic:
    """``record_syntactic_position``'s context manager: the node's range from where its code
    starts (or ``start_node``'s start) to where it ends (or ``end_node``'s end)."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(
        self,
        state: _FastState,
        node: CSTNode,
        start_node: CSTNode | None,
        end_node: CSTNode | None,
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node
        self.start = CodePosition(state.line, state.column)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        state = self.state
        computed = state.provider._computed
        start = self.start if self.start_node is None else computed[self.start_node].start
        end = (
            CodePosition(state.line, state.column)
            if self.end_node is None
            else computed[self.end_node].end
        )
        computed[self.node] = CodeRange(start, end)


class _FastState(PositionProvidingCodegenState):
    provider: Any

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            segments = NEWLINE_RE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: CSTNode,
        *,
        start_node: CSTNode | None = None,
        end_node: CSTNode | None = None,
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class FastPositionProvider(BaseMetadataProvider[CodeRange]):
    """The ranges libcst's ``PositionProvider`` gives (syntactic: most surrounding
    whitespace left out), for every node."""

    def _gen_impl(self, module: Module) -> None:
        state = _FastState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            provider=self,
        )
        module._codegen(state)


_CHILD_FIELDS: dict[type[CSTNode], tuple[str, ...]] = {}
# isinstance against CSTNode (an abstract class) costs an ABC check: asked once per type
_IS_NODE: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, CSTNode)
    return known


def children(node: CSTNode) -> list[CSTNode]:
    """A node's children, as libcst's ``children`` (the nodes in its fields, in field
    order), read from the fields directly rather than by a visit."""
    kind = type(node)
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(node))
    found: list[CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is list or kind is tuple:
            found.extend(item for item in value if _is_node(type(item)))
        elif _is_node(kind):
            found.append(value)
    return found


LOAD, STORE, DEL = ExpressionContext.LOAD, ExpressionContext.STORE, ExpressionContext.DEL


def expression_contexts(module: Module) -> Mapping[CSTNode, ExpressionContext]:
    """What ``ExpressionContextProvider`` gives for ``module``: each rule below is one of its
    visitor's methods (libcst/metadata/expression_context_provider.py), in the same terms:
    the parts a rule names are walked in the context it gives them, the parts it does not
    name are not walked, and any other node's children inherit its context. Rules are
    chosen by exact type, as libcst's visitor chooses its ``visit_<class name>`` method."""
    found: dict[CSTNode, ExpressionContext] = {}
    stack: list[tuple[Any, ExpressionContext]] = [(module, LOAD)]
    while stack:
        node, context = stack.pop()
        if node is None:
            continue
        kind = type(node)
        if kind is cst.Name:
            found[node] = context
        elif kind is cst.Assign:
            stack.extend((target, STORE) for target in node.targets)
            stack.append((node.value, context))
        elif kind is cst.AnnAssign:
            stack += [(node.target, STORE), (node.annotation, context), (node.value, context)]
        elif kind is cst.AugAssign or kind is cst.NamedExpr:
            stack += [(node.target, STORE), (node.value, context)]
        elif kind is cst.AsName:
            stack.append((node.name, STORE))
        elif kind is cst.CompFor:
            stack += [(node.target, STORE), (node.iter, context), (node.inner_for_in, context)]
            stack.extend((test, context) for test in node.ifs)
        elif kind is cst.For:
            stack += [(node.target, STORE), (node.iter, context), (node.body, context)]
            stack.append((node.orelse, context))
        elif kind is cst.Del:
            stack.append((node.target, DEL))
        elif kind is cst.Attribute:
            found[node] = context
            stack.append((node.value, LOAD))
        elif kind is cst.Subscript:
            found[node] = context
            stack.append((node.value, LOAD))
            stack.extend((element, LOAD) for element in node.slice)
        elif kind is cst.ClassDef:
            stack += [(node.name, STORE), (node.body, context)]
            stack.extend((part, context) for part in (*node.bases, *node.keywords))
            stack.extend((decorator, context) for decorator in node.decorators)
        elif kind is cst.FunctionDef:
            stack += [(node.name, STORE), (node.params, context), (node.body, context)]
            stack.extend((decorator, context) for decorator in node.decorators)
            stack.append((node.returns, context))
        elif kind is cst.Param:
            stack += [(node.name, STORE), (node.annotation, context), (node.default, context)]
        else:
            if kind is cst.Tuple or kind is cst.List or kind is cst.StarredElement:
                found[node] = context
            stack.extend((child, context) for child in children(node))
    return MappingProxyType(found)


def resolve(wrapper: MetadataWrapper) -> tuple[Mapping[CSTNode, CodeRange], Mapping[CSTNode, Any]]:
    """The positions and scopes of ``wrapper``'s module (a node's ``Scope``, or None), as
    ``wrapper.resolve`` gives ``PositionProvider`` and ``ScopeProvider``; also left in the
    wrapper, as its own resolution would."""
    metadata: Any = wrapper._metadata
    contexts = metadata.setdefault(ExpressionContextProvider, expression_contexts(wrapper.module))
    positions = cast(Mapping[CSTNode, CodeRange], FastPositionProvider()._gen(wrapper))
    provider = ScopeProvider()
    provider.metadata = {ExpressionContextProvider: contexts}  # what resolve() would give
    provider.visit_Module(wrapper.module)
    scopes = cast(Mapping[CSTNode, Scope | None], MappingProxyType(dict(provider._computed)))
    metadata[ScopeProvider] = scopes
    return positions, scopes
