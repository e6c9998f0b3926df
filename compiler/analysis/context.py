"""What every rule family of the analysis reads and records: one per module analysed.

The families (kernels, closure, writes, warnings) are separate modules that share this
state: the scope index, the diagnostics found so far and the kernels hoisted so far. Only
``report`` records an error; ``errors_aside`` lets a rule be tried without recording.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import libcst as cst
from libcst.metadata import Assignment

from ..diagnostics import CompileError, Diagnostic
from ..messages import Message
from ..scope_index import ScopeIndex, walk
from ..source import SourceFile
from .model import Hoisted


class Context:
    """The module being analysed and what analysis has found in it so far."""

    def __init__(self, source: SourceFile, index: ScopeIndex) -> None:
        self.source, self.index = source, index
        self.module = index.module
        self.errors: list[Diagnostic] = []
        self.hoisted: list[Hoisted] = []
        # every identifier of the program, in any scope: generated names avoid them all
        self.all_names = frozenset(index.names)
        self.global_scope = index.global_scope
        self.global_names = (
            frozenset(a.name for a in self.global_scope.assignments if isinstance(a, Assignment))
            if self.global_scope is not None
            else frozenset()
        )
        self._hoisted_cache: tuple[int, frozenset[int]] = (0, frozenset())
        self._registrars: dict[int, frozenset[int]] | None = None

    def report(self, node: cst.CSTNode, message: Message) -> None:
        """Record an error (or warning) at ``node``."""
        line, column = self.index.position(node)
        self.errors.append(self.source.report(message, line, column))

    def raise_errors(self) -> None:
        """Stop with every error recorded, in source order."""
        if self.errors:
            raise CompileError(sorted(set(self.errors), key=lambda d: (d.line, d.column)))

    @contextlib.contextmanager
    def errors_aside(self) -> Iterator[list[Diagnostic]]:
        """Diagnostics of a trial run of a rule, kept apart from the program's own."""
        saved, self.errors = self.errors, []
        try:
            yield self.errors
        finally:
            self.errors = saved

    def where(self, node: cst.CSTNode) -> str:
        return f"line {self.index.position(node)[0]}"

    def top(self, node: cst.CSTNode) -> int:
        """The module-level statement holding ``node`` (-1: none)."""
        return self.index.top_of.get(node, -1)

    def describe(self, top: int) -> str:
        statement = self.module.body[top]
        if isinstance(statement, cst.FunctionDef):
            return f"function '{statement.name.value}'"
        if isinstance(statement, cst.ClassDef):
            return f"class '{statement.name.value}'"
        return f"the definition at {self.where(statement)}"

    def kernel_name(self, kernel: cst.BaseExpression) -> str:
        """A kernel as messages and region labels show it."""
        if isinstance(kernel, cst.Lambda):
            return f"<lambda at line {self.index.position(kernel)[0]}>"
        code = self.module.code_for_node(kernel).strip()
        return code if len(code) <= 60 else code[:57] + "..."

    def hoisted_ids(self) -> frozenset[int]:
        """Ids of every node of the hoisted kernels (known once the kernels are found)."""
        if self._hoisted_cache[0] != len(self.hoisted):
            ids = frozenset(id(n) for h in self.hoisted for n in walk(h.node))
            self._hoisted_cache = (len(self.hoisted), ids)
        return self._hoisted_cache[1]

    def registrars(self) -> dict[int, frozenset[int]]:
        """Module-level functions that change a global and are used only as decorators of
        module-level definitions (``@register("csv")`` filling ``PARSERS``), each with the
        definitions it decorates. Their changes happen while the module is imported, the
        same way in every process that imports it: shipped together with all they decorate,
        the main program and the workers see the same registry."""
        if self._registrars is None:
            self._registrars = self._find_registrars()
        return self._registrars

    def _find_registrars(self) -> dict[int, frozenset[int]]:
        index, body = self.index, self.module.body
        found: dict[int, frozenset[int]] = {}
        if self.global_scope is None:
            return found
        for top in sorted({top for _, top in index.mutations}):
            statement = body[top] if 0 <= top < len(body) else None
            if not isinstance(statement, cst.FunctionDef):
                continue
            references = [
                reference
                for assignment in self.global_scope.assignments[statement.name.value]
                if isinstance(assignment, Assignment) and assignment.node is statement
                for reference in assignment.references
            ]
            decorated: set[int] = set()
            for reference in references:
                user = index.top_of.get(reference.node, -1)
                target = body[user] if 0 <= user < len(body) else None
                if not isinstance(target, cst.FunctionDef | cst.ClassDef) or not any(
                    reference.node is node
                    for decorator in target.decorators
                    for node in walk(decorator)
                ):
                    break
                decorated.add(user)
            else:
                if decorated:
                    found[top] = frozenset(decorated)
        return found
