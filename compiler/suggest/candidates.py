"""Finding the loops, comprehensions and ``map()`` calls of an un-annotated program, and the
shape each has: a map the primitives can express, or the reason it is not one.

This module only reads: what a candidate would become is described (``Replacement``), and
``rewrite`` makes it. Whether a map-shaped candidate is really safe to run in parallel is
decided afterwards by compiling the program with it (``verdicts``): the compiler's own
analysis of kernels (global state, random state, stdin, arguments changed in place) is the
judge, so a suggestion can never be something the compiler would refuse or warn about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

DATA = "data_parallel_region"
STREAM = "producer_consumer"
# Calls whose result is read item by item as it is produced: a stream, not a list
STREAM_CALLS = frozenset({"open", "csv.reader", "csv.DictReader", "sys.stdin", "os.scandir"})
STOP_REASONS = {
    "break": "the loop stops on a result (`break`): later items depend on earlier ones",
    "return": "the loop returns on a result (`return`): later items depend on earlier ones",
    "continue": "the loop skips items on a result (`continue`): not one value per item",
    "yield": "the loop yields its values one by one (a generator: its caller drives it)",
    "await": "the loop awaits (its items run in turn on the event loop)",
}


@dataclass(frozen=True)
class Replacement:
    """What a candidate becomes: ``target = primitive(data, kernel, *replicated)`` (or the
    bare call, for a comprehension or map). ``kernel`` is source text: a function's name,
    or a lambda when the value per item is an expression."""

    primitive: str
    data: str
    kernel: str
    replicated: tuple[str, ...]

    def call(self) -> str:
        arguments = ", ".join((self.data, self.kernel, *self.replicated))
        return f"{self.primitive}({arguments})"


@dataclass(frozen=True)
class Candidate:
    """One loop, comprehension or ``map()`` call examined. ``replacement`` is None when its
    shape is not a map (``reason`` says why); ``node`` is what the rewrite replaces (for a
    loop, ``init`` is the ``NAME = []`` before it, removed with it)."""

    line: int
    column: int
    kind: str  # "for", "comprehension", "map"
    reason: str
    replacement: Replacement | None
    node: cst.CSTNode
    init: cst.SimpleStatementLine | None = None
    target: str = ""  # the list a loop builds


def find_candidates(module: cst.Module) -> tuple[Candidate, ...]:
    """Every loop, list comprehension and ``list(map(...))`` of ``module``, in source order."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    finder = _Finder(_generator_functions(module))
    wrapper.visit(finder)
    return tuple(sorted(finder.found, key=lambda c: (c.line, c.column)))


def _generator_functions(module: cst.Module) -> frozenset[str]:
    """Module-level functions that yield: looping over their call is a stream."""
    names = set()
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            finder = _YieldFinder()
            statement.body.visit(finder)
            if finder.found:
                names.add(statement.name.value)
    return frozenset(names)


class _YieldFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # a nested function's yield is its own

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


class _Names(cst.CSTVisitor):
    """The names an expression or statement reads or binds, and what stops a loop."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.stops: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Break(self, node: cst.Break) -> None:
        self.stops.append("break")

    def visit_Continue(self, node: cst.Continue) -> None:
        self.stops.append("continue")

    def visit_Return(self, node: cst.Return) -> None:
        self.stops.append("return")

    def visit_Yield(self, node: cst.Yield) -> None:
        self.stops.append("yield")

    def visit_Await(self, node: cst.Await) -> None:
        self.stops.append("await")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.names.update(_names(node.body))  # free names count; its own parameters too
        return False


def _names(node: cst.CSTNode) -> set[str]:
    visitor = _Names()
    node.visit(visitor)
    return visitor.names


def _stops(node: cst.CSTNode) -> list[str]:
    visitor = _Names()
    node.visit(visitor)
    return visitor.stops


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, generators: frozenset[str]) -> None:
        self.generators = generators
        self.found: list[Candidate] = []

    def _where(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def _primitive(self, data: cst.BaseExpression) -> str:
        """A stream when the data is produced item by item (a generator, a file)."""
        if isinstance(data, cst.GeneratorExp):
            return STREAM
        if isinstance(data, cst.Call):
            called = _dotted(data.func)
            if called in self.generators or called in STREAM_CALLS:
                return STREAM
        if _dotted(data) in STREAM_CALLS:
            return STREAM
        return DATA

    def _kernel(
        self, variable: str, value: cst.BaseExpression
    ) -> tuple[str, tuple[str, ...]] | str:
        """The kernel and replicated arguments computing ``value`` from ``variable``, or
        why there is none."""
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            arguments = value.args
            plain = all(a.keyword is None and not a.star for a in arguments)
            if (
                plain
                and arguments
                and isinstance(arguments[0].value, cst.Name)
                and arguments[0].value.value == variable
                and not any(variable in _names(a.value) for a in arguments[1:])
            ):
                return value.func.value, tuple(_code(a.value) for a in arguments[1:])
        if variable not in _names(value):
            return "the value does not depend on the item"
        return f"lambda {variable}: {_code(value)}", ()

    # for NAME in DATA: LIST.append(VALUE), after LIST = []
    def visit_For(self, node: cst.For) -> None:
        line, column = self._where(node)

        def sequential(reason: str) -> None:
            self.found.append(Candidate(line, column, "for", reason, None, node))

        if node.asynchronous is not None:
            return sequential("an async loop (its items are awaited in turn)")
        stops = _stops(node.body)
        if stops:
            return sequential(STOP_REASONS[stops[0]])
        if node.orelse is not None:
            return sequential("the loop has an else clause, which depends on how it ends")
        if not isinstance(node.target, cst.Name):
            return sequential("the loop unpacks its items (one name per item is a map's shape)")
        variable = node.target.value
        appended = _single_append(node.body)
        if appended is None:
            return sequential(self._why_not_a_map(node, variable))
        target, value = appended
        init = self._list_before(node, target)
        if init is None:
            return sequential(
                f"'{target}' is not made empty (`{target} = []`) just before the loop: the "
                "items would be added to what it holds"
            )
        if target in _names(value) or target in _names(node.iter):
            return sequential(f"the body reads '{target}', the list it builds")
        kernel = self._kernel(variable, value)
        if isinstance(kernel, str):
            return sequential(kernel)
        replacement = Replacement(self._primitive(node.iter), _code(node.iter), *kernel)
        self.found.append(
            Candidate(line, column, "for", "", replacement, node, init=init, target=target)
        )

    def _why_not_a_map(self, node: cst.For, variable: str) -> str:
        """Why a loop's body is not one append per item: a value carried over, or more."""
        carried = _carried(node.body, variable)
        if carried:
            return (
                f"'{carried}' carries a value from one iteration to the next (the next item "
                "depends on the previous one)"
            )
        return "the body does more than add one value per item to a list"

    def _list_before(self, node: cst.For, target: str) -> cst.SimpleStatementLine | None:
        """The ``target = []`` statement right before the loop in its block."""
        parent = self.get_metadata(ParentNodeProvider, node)
        body: Sequence[cst.CSTNode] = getattr(parent, "body", ())
        if not isinstance(body, Sequence) or node not in body:
            return None
        index = list(body).index(node)
        if index == 0:
            return None
        before = body[index - 1]
        if not isinstance(before, cst.SimpleStatementLine) or len(before.body) != 1:
            return None
        assign = before.body[0]
        if (
            isinstance(assign, cst.Assign)
            and len(assign.targets) == 1
            and isinstance(assign.targets[0].target, cst.Name)
            and assign.targets[0].target.value == target
            and isinstance(assign.value, cst.List)
            and not assign.value.elements
        ):
            return before
        return None

    # [VALUE for NAME in DATA]
    def visit_ListComp(self, node: cst.ListComp) -> None:
        line, column = self._where(node)
        clause = node.for_in

        def sequential(reason: str) -> None:
            self.found.append(Candidate(line, column, "comprehension", reason, None, node))

        if clause.inner_for_in is not None:
            return sequential("two loops in one comprehension")
        if clause.ifs:
            return sequential("a filter (`if`) in the comprehension")
        if clause.asynchronous is not None:
            return sequential("an async comprehension")
        if not isinstance(clause.target, cst.Name):
            return sequential("the comprehension unpacks its items")
        kernel = self._kernel(clause.target.value, node.elt)
        if isinstance(kernel, str):
            return sequential(kernel)
        replacement = Replacement(self._primitive(clause.iter), _code(clause.iter), *kernel)
        self.found.append(Candidate(line, column, "comprehension", "", replacement, node))

    # list(map(FUNCTION, DATA))
    def visit_Call(self, node: cst.Call) -> None:
        if not (
            isinstance(node.func, cst.Name)
            and node.func.value == "list"
            and len(node.args) == 1
            and isinstance(node.args[0].value, cst.Call)
            and _dotted(node.args[0].value.func) == "map"
        ):
            return
        mapped = node.args[0].value
        assert isinstance(mapped, cst.Call)
        line, column = self._where(mapped)
        arguments = mapped.args
        if len(arguments) != 2 or any(a.keyword or a.star for a in arguments):
            reason = "map() over several iterables (items are tuples of them)"
            self.found.append(Candidate(line, column, "map", reason, None, node))
            return
        function, data = arguments[0].value, arguments[1].value
        replacement = Replacement(self._primitive(data), _code(data), _code(function), ())
        self.found.append(Candidate(line, column, "map", "", replacement, node))


def _single_append(body: cst.BaseSuite) -> tuple[str, cst.BaseExpression] | None:
    """(list, value) when ``body`` is exactly ``LIST.append(VALUE)``."""
    statements = body.body if isinstance(body, cst.IndentedBlock) else [body]
    if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
        return None
    line = statements[0]
    if len(line.body) != 1 or not isinstance(line.body[0], cst.Expr):
        return None
    call = line.body[0].value
    if (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.attr.value == "append"
        and len(call.args) == 1
        and call.args[0].keyword is None
        and not call.args[0].star
    ):
        return call.func.value.value, call.args[0].value
    return None


def _carried(body: cst.BaseSuite, variable: str) -> str:
    """A name the body reads before it binds it in the same iteration, and binds somewhere
    (``total += x``, ``state = step(state, x)``): its value goes from one iteration to the
    next. Statements are taken in order, each as a whole."""
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    bound_anywhere: set[str] = set()
    steps = []
    for statement in statements:
        reads, binds = _reads_and_binds(statement)
        steps.append((reads, binds))
        bound_anywhere |= binds
    bound: set[str] = {variable}
    for reads, binds in steps:
        early = sorted((reads - bound) & bound_anywhere)
        if early:
            return early[0]
        bound |= binds
    return ""


def _reads_and_binds(statement: cst.CSTNode) -> tuple[set[str], set[str]]:
    """The names a statement reads (an augmented assignment reads its target) and binds."""
    visitor = _Bindings()
    statement.visit(visitor)
    targets = {id(node) for node in visitor.targets}
    reads = {node.value for node in visitor.names if id(node) not in targets}
    reads |= {node.value for node in visitor.augmented}
    return reads, {node.value for node in (*visitor.targets, *visitor.augmented)}


class _Bindings(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[cst.Name] = []
        self.targets: list[cst.Name] = []
        self.augmented: list[cst.Name] = []

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Name):
            self.targets.append(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.augmented.append(node.target)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)
