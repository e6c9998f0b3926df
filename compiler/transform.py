"""Transformation: the analysed program split into Main.py and the shared module.

The only module that edits a tree. It removes the toreador imports, moves the kernels' closure
into the shared module (Main.py imports it back), lifts hoisted kernels to module level and
replaces each primitive call by ``run_region(REGION_..., data, kernel, *repl)``. Where moved
code reads ``__name__``, it reads ``"__main__"``, as it did in the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import libcst as cst

from .analysis import ModuleAnalysis, RegionCall
from .plan import ParallelPlan, RegionPlan
from .scope_index import bound_name

Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


@dataclass(frozen=True)
class TransformedProgram:
    """Code fragments for the templates (each a whole number of statements)."""

    main_prologue: str
    main_leading_imports: str
    main_body: str
    main_imports: tuple[str, ...]
    uses_runtime: bool  # calls run_region
    shared_uses_runtime: bool
    uses_error: bool  # reads PrimitiveUsageError
    shared_uses_error: bool
    shared_prologue: str
    shared_body: str


class _RegionRewriter(cst.CSTTransformer):
    """Replaces primitive calls and hoisted kernels, matched by original node identity."""

    def __init__(
        self,
        regions: dict[int, tuple[RegionCall, RegionPlan]],
        replacements: dict[int, cst.BaseExpression],
        plan: ParallelPlan,
        error_references: frozenset[int],
    ) -> None:
        super().__init__()
        self.regions, self.replacements = regions, replacements
        self.run_name, self.error_name = plan.run_name, plan.error_name
        self.error_references = error_references
        self.used: set[str] = set()  # region constants
        self.calls_run = False  # run_region is called
        self.uses_error = False  # PrimitiveUsageError is read

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode:
        replacement = self.replacements.get(id(original_node))
        if replacement is not None:
            return replacement
        if id(original_node) in self.error_references:
            self.uses_error = True
            return cst.Name(self.error_name)
        found = self.regions.get(id(original_node))
        if found is not None and found[0].value_site:
            # a primitive used as a value is its region record, which runs when called
            self.used.add(found[1].constant)
            return cst.Name(found[1].constant)
        if (
            found is not None
            and isinstance(original_node, cst.Call)
            and isinstance(updated_node, cst.Call)
        ):
            return self._run_region(found[0], found[1], updated_node)
        return updated_node

    def _run_region(self, region: RegionCall, plan: RegionPlan, updated: cst.Call) -> cst.Call:
        self.used.add(plan.constant)
        self.calls_run = True
        chosen = region.arguments  # matched by analysis, by position or keyword
        rest = [a for i, a in enumerate(updated.args) if i not in chosen]
        plain = [cst.Arg(updated.args[i].value) for i in chosen]
        args = [cst.Arg(cst.Name(plan.constant)), *plain, *rest]
        return cst.Call(func=cst.Name(self.run_name), args=_with_commas(args))


def _with_commas(args: list[cst.Arg]) -> list[cst.Arg]:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [
        a.with_changes(comma=comma if i < len(args) - 1 else cst.MaybeSentinel.DEFAULT)
        for i, a in enumerate(args)
    ]


def _is_docstring(statement: Statement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _without_imports(statement: Statement, unused: frozenset[str]) -> Statement | None:
    """An import line without the names only moved code used; None when nothing is left."""
    if not unused or not _is_import(statement):
        return statement
    assert isinstance(statement, cst.SimpleStatementLine)
    smalls: list[cst.BaseSmallStatement] = []
    for small in statement.body:
        if isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
            small.names, cst.ImportStar
        ):
            aliases = [a for a in small.names if bound_name(a) not in unused]
            if not aliases:
                continue
            last = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            small = small.with_changes(names=[*aliases[:-1], last])
            if isinstance(small, cst.ImportFrom) and len(aliases) == 1:
                small = small.with_changes(lpar=None, rpar=None)
        smalls.append(small)
    if not smalls:
        return None
    return statement.with_changes(body=smalls)


def _is_import(statement: Statement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, cst.Import | cst.ImportFrom) for s in statement.body
    )


def _hoisted_definition(name: str, node: cst.Lambda | cst.FunctionDef) -> cst.FunctionDef:
    if isinstance(node, cst.FunctionDef):
        return node.with_changes(name=cst.Name(name), leading_lines=[])
    body = cst.IndentedBlock([cst.SimpleStatementLine([cst.Return(node.body)])])
    return cst.FunctionDef(name=cst.Name(name), params=node.params, body=body)


def _code(
    statements: list[Statement],
    rewriter: _RegionRewriter,
    like: cst.Module,
    as_they_are: frozenset[int] = frozenset(),
) -> str:
    """Statements as code, indented and ended as in the source (``like``): an indentation
    written relative to the source's own, such as a form feed inside it, stays valid. The
    statements in ``as_they_are`` (by id) hold nothing to rewrite: not walked (a rewriting
    walk over a whole program was a tenth of a compile)."""
    if not statements:
        return ""
    body = [s if id(s) in as_they_are else cast(Statement, s.visit(rewriter)) for s in statements]
    module = like.with_changes(body=body, header=[], footer=[])
    return module.code


def transform_program(analysis: ModuleAnalysis, plan: ParallelPlan) -> TransformedProgram:
    """Split the program: Main.py keeps the program, the shared module its kernels' needs."""
    module = analysis.module
    regions = {id(r.node): (r, p) for r, p in zip(analysis.regions, plan.regions, strict=True)}
    replacements: dict[int, cst.BaseExpression] = {
        id(h.replaces): cst.Name(h.name) for h in analysis.hoisted
    }
    prologue: list[Statement] = []
    body: list[Statement] = []
    shared: list[Statement] = []
    for position, statement in enumerate(module.body):
        if position in analysis.future_imports or (position == 0 and _is_docstring(statement)):
            prologue.append(statement)
            continue
        if position in analysis.copied:
            shared.append(statement)
        if position in analysis.moved:
            shared.append(statement)
        elif position not in analysis.toreador_imports:
            kept = _without_imports(statement, analysis.imports_only_shipped)
            if kept is not None:
                body.append(kept)

    errors = frozenset(id(node) for node in analysis.error_references)
    as_they_are = frozenset(
        id(statement)
        for position, statement in enumerate(module.body)
        if position not in analysis.rewritten_tops
    )
    main_rewriter = _RegionRewriter(regions, replacements, plan, errors)
    leading = 0
    while leading < len(body) and _is_import(body[leading]):
        leading += 1
    main_leading = _code(body[:leading], main_rewriter, module, as_they_are)
    main_body = _code(body[leading:], main_rewriter, module, as_they_are)
    # where moved code reads __name__, the program's own: Main.py runs as "__main__"
    program_name: dict[int, cst.BaseExpression] = {
        id(node): cst.SimpleString('"__main__"') for node in analysis.program_name_reads
    }
    shared_rewriter = _RegionRewriter(regions, program_name, plan, errors)
    unique = {h.name: h for h in analysis.hoisted}.values()
    hoisted = [_hoisted_definition(h.name, h.node) for h in unique]
    shared_body = _code([*shared, *hoisted], shared_rewriter, module, as_they_are)
    imports = (
        sorted(main_rewriter.used)
        + [name for name in analysis.imported_by_main if name not in main_rewriter.used]
        + [h.name for h in analysis.hoisted]
    )
    header = module.header
    main_prologue = (
        module.with_changes(body=prologue, header=header, footer=[]).code
        if (prologue or header)
        else ""
    )
    future = [s for i, s in enumerate(module.body) if i in analysis.future_imports]
    return TransformedProgram(
        main_prologue=main_prologue,
        main_leading_imports=main_leading,
        main_body=main_body,
        main_imports=tuple(dict.fromkeys(imports)),
        uses_runtime=main_rewriter.calls_run,
        shared_uses_runtime=shared_rewriter.calls_run,
        uses_error=main_rewriter.uses_error,
        shared_uses_error=shared_rewriter.uses_error,
        shared_prologue=module.with_changes(body=future, header=[], footer=[]).code
        if future
        else "",
        shared_body=shared_body,
    )
