"""Turning chosen candidates into primitive calls, and importing the primitives.

Everything else in the program is kept as it was, comments and blank lines included
(libcst keeps them): the suggestion is a diff a user can read line by line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from .candidates import Candidate


def rewrite(module: cst.Module, chosen: Iterable[Candidate]) -> str:
    """``module``'s source with ``chosen`` candidates replaced and the import added."""
    candidates = list(chosen)
    if not candidates:
        return module.code
    replaced = module.visit(_Replace(candidates))
    primitives = sorted({c.replacement.primitive for c in candidates if c.replacement})
    return _with_import(replaced, primitives).code


class _Replace(cst.CSTTransformer):
    def __init__(self, candidates: list[Candidate]) -> None:
        self.by_node = {id(c.node): c for c in candidates}
        self.inits = {id(c.init): c for c in candidates if c.init is not None}
        self.groups = {id(c.group[0]): c for c in candidates if c.group}
        self.sums = {id(c.node): c for c in candidates if c.summed}
        self.anchors: dict[int, list[cst.FunctionDef]] = {}
        for candidate in candidates:
            if candidate.extracted is not None and candidate.anchor is not None:
                self.anchors.setdefault(id(candidate.anchor), []).append(candidate.extracted)

    def _call(self, candidate: Candidate) -> cst.BaseExpression:
        assert candidate.replacement is not None
        return cst.parse_expression(candidate.replacement.call())

    def leave_ListComp(
        self, original_node: cst.ListComp, updated_node: cst.ListComp
    ) -> cst.BaseExpression:
        candidate = self.by_node.get(id(original_node))
        if candidate is None:
            return updated_node
        return self._call(candidate).with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        candidate = self.by_node.get(id(original_node))
        return updated_node if candidate is None else self._call(candidate)

    def _statements(
        self, original: Sequence[cst.CSTNode], updated: Sequence[cst.CSTNode]
    ) -> list[cst.CSTNode]:
        """A block's statements, each chosen loop and the ``NAME = []`` before it made one
        assignment (which keeps the comments above the ``NAME = []``)."""
        result: list[cst.CSTNode] = []
        skip = 0
        for index, (before, after) in enumerate(zip(original, updated, strict=True)):
            # a loop body made a function: defined before the module statement holding it
            result.extend(self.anchors.get(id(before), ()))
            if skip:
                skip -= 1
                continue
            summed = self.sums.get(id(before))
            if summed is not None:  # total = sum(values, total): the loop's order of adding
                assert summed.replacement is not None
                line = cst.parse_statement(
                    f"{summed.target} = sum({summed.replacement.call()}, {summed.target})\n"
                )
                assert isinstance(line, cst.SimpleStatementLine)
                result.append(line.with_changes(leading_lines=getattr(after, "leading_lines", ())))
                continue
            calls = self.groups.get(id(before))
            if calls is not None:  # a, b = bag_of_task([...], [...])
                assert isinstance(after, cst.SimpleStatementLine)
                targets = cst.parse_expression(calls.target)
                assert isinstance(targets, cst.Tuple)
                assign = cst.Assign(targets=[cst.AssignTarget(targets)], value=self._call(calls))
                result.append(after.with_changes(body=[assign]))
                skip = len(calls.group) - 1
                continue
            candidate = self.inits.get(id(before))
            following = original[index + 1] if index + 1 < len(original) else None
            if candidate is not None and following is candidate.node:
                assert isinstance(after, cst.SimpleStatementLine)
                assign = cst.Assign(
                    targets=[cst.AssignTarget(cst.Name(candidate.target))],
                    value=self._call(candidate),
                )
                result.append(after.with_changes(body=[assign]))
                skip = 1
                continue
            result.append(after)
        return result

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = self._statements(original_node.body, updated_node.body)
        return updated_node.with_changes(body=body)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body = self._statements(original_node.body, updated_node.body)
        return updated_node.with_changes(body=body)


def _with_import(module: cst.Module, primitives: list[str]) -> cst.Module:
    """``from toreador import ...`` after the docstring and the ``__future__`` imports (and
    after any import already there, so the program's own imports stay together)."""
    statement = cst.parse_statement(f"from toreador import {', '.join(primitives)}\n")
    body = list(module.body)
    position = 0
    for index, node in enumerate(body):
        if not isinstance(node, cst.SimpleStatementLine):
            break
        first = node.body[0]
        is_docstring = (
            index == 0 and isinstance(first, cst.Expr) and isinstance(first.value, cst.SimpleString)
        )
        if is_docstring or isinstance(first, cst.Import | cst.ImportFrom):
            position = index + 1
            continue
        break
    body.insert(position, statement)
    return module.with_changes(body=body)
