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
from libcst.helpers import get_full_name_for_node
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
    # a loop whose body computes its value in several statements: the body made a module
    # function (placed before ``anchor``, the module statement holding the loop)
    extracted: cst.FunctionDef | None = None
    anchor: cst.CSTNode | None = None
    # independent calls: the statements made one ``a, b = bag_of_task(...)``
    group: tuple[cst.SimpleStatementLine, ...] = ()
    summed: bool = False  # `total += value` per item: the values summed after the region


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

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)  # `math.cos` reads `math`, not a name `cos`
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # a keyword's name is not a name read
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
    """``a.b.c`` for a name or attribute chain ("" for anything else)."""
    if not isinstance(node, cst.Name | cst.Attribute):
        return ""
    return get_full_name_for_node(node) or ""


class _Finder(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, generators: frozenset[str]) -> None:
        self.generators = generators
        self.found: list[Candidate] = []
        self.locals: list[set[str]] = []  # each enclosing function's parameters and locals
        self.top: list[cst.CSTNode] = []  # the module statement being visited
        self.module_names: set[str] = set()
        self.function_reads: set[str] = set()  # names read inside the module's functions
        self.statements: set[int] = set()
        self.functions: set[str] = set()  # the program's module-level functions

    def visit_Module(self, node: cst.Module) -> None:
        self.module_names = _all_names(node)
        for statement in node.body:
            methods = (
                [m for m in statement.body.body if isinstance(m, cst.FunctionDef)]
                if isinstance(statement, cst.ClassDef)
                else [statement]
            )
            for function in methods:
                if isinstance(function, cst.FunctionDef):  # the globals it may read
                    own = {p.name.value for p in _parameters(function)} | _bound(function.body)
                    self.function_reads |= _all_names(function.body) - own

        self.statements = {id(statement) for statement in node.body}
        self.functions = {s.name.value for s in node.body if isinstance(s, cst.FunctionDef)}
        self._independent_calls(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._independent_calls(node.body)

    # NAME1 = f1(a1); NAME2 = f2(a2): independent calls of the program's own functions
    def _independent_calls(self, body: Sequence[cst.BaseStatement]) -> None:
        """Runs of two or more such statements in which no call's argument is an earlier
        one's result (the arguments are all evaluated before any call runs). At module
        level, a result a function reads as a global ends the run: that function would see
        the name before the call assigned it."""
        run: list[tuple[cst.SimpleStatementLine, str, str, str]] = []
        globals_read = self.function_reads if not self.locals else set()
        for statement in [*body, None]:
            call = None if statement is None else _own_call(statement, self.functions)
            if call is not None and call[0] in globals_read:
                call = None
            if call is not None:
                earlier = {target for _, target, _, _ in run}
                if call[0] in earlier or call[2] in earlier:
                    if len(run) >= 2:
                        self._calls_candidate(run)
                    run = []
                assert isinstance(statement, cst.SimpleStatementLine)
                run.append((statement, *call))
                continue
            if len(run) >= 2:
                self._calls_candidate(run)
            run = []

    def _calls_candidate(self, run: list[tuple[cst.SimpleStatementLine, str, str, str]]) -> None:
        first = run[0][0]
        line, column = self._where(first)
        targets = ", ".join(target for _, target, _, _ in run)
        replacement = Replacement(
            "bag_of_task",
            "[" + ", ".join(argument for _, _, _, argument in run) + "]",
            "[" + ", ".join(function for _, _, function, _ in run) + "]",
            (),
        )
        self.found.append(
            Candidate(
                line, column, "calls", "", replacement, first, target=targets,
                group=tuple(statement for statement, _, _, _ in run),
            )
        )  # fmt: skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.statements:
            self.top = [node]
        return super().on_visit(node)

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
        read = _names(value)
        if variable not in read:
            return "the value does not depend on the item"
        if isinstance(value, cst.Name):
            return "each item is its own value: nothing to compute per item"
        if not _does_work(value):
            return (
                "too little work per item to pay for workers (no call but cheap builtins: "
                "the engine would run it in place)"
            )
        # the enclosing function's locals the value reads: passed along as replicated
        # arguments (a lambda closing over them could not be sent to workers)
        local = sorted((read & self.locals[-1]) - {variable}) if self.locals else []
        parameters = ", ".join((variable, *local))
        return f"lambda {parameters}: {_code(value)}", tuple(local)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        names = {p.name.value for p in _parameters(node)}
        bindings = _Bindings()
        node.body.visit(bindings)
        names |= {n.value for n in (*bindings.targets, *bindings.augmented)}
        self.locals.append(names)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.locals.pop()

    # a comprehension's variables are locals of what it holds (passed along, as above)
    def _enter_comprehension(self, clause: cst.CompFor) -> None:
        names = set(self.locals[-1]) if self.locals else set()
        while clause is not None:
            names |= _target_names(clause.target)
            clause = clause.inner_for_in  # type: ignore[assignment]
        self.locals.append(names)

    def leave_ListComp(self, original_node: cst.ListComp) -> None:
        self.locals.pop()

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._enter_comprehension(node.for_in)

    def leave_SetComp(self, original_node: cst.SetComp) -> None:
        self.locals.pop()

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._enter_comprehension(node.for_in)

    def leave_DictComp(self, original_node: cst.DictComp) -> None:
        self.locals.pop()

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_comprehension(node.for_in)

    def leave_GeneratorExp(self, original_node: cst.GeneratorExp) -> None:
        self.locals.pop()

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
        unpack: list[cst.BaseStatement] = []
        if isinstance(node.target, cst.Name):
            variable = node.target.value
        elif isinstance(node.target, cst.Tuple | cst.List) and _target_names(node.target):
            # `for k, v in pairs:` the kernel takes the pair and unpacks it first
            variable = "item"
            while variable in _all_names(node):
                variable += "_"
            unpack = [
                cst.SimpleStatementLine(
                    [cst.Assign([cst.AssignTarget(node.target)], cst.Name(variable))]
                )
            ]
        else:
            return sequential("the loop assigns its items to something other than names")
        loop_names = _target_names(node.target) | {variable}
        later = self._read_after(node)
        leaked = sorted(loop_names & later)
        if not leaked and not unpack and self._sum(node, variable, line, column):
            return None  # `total += value`: the sum after the region sets `total` itself
        carried = _carried(node.body, loop_names)
        if carried:
            return sequential(
                f"'{carried}' carries a value from one iteration to the next (the next item "
                "depends on the previous one)"
            )
        leaked = sorted((loop_names | _bound(node.body)) & later)
        if leaked:
            return sequential(
                f"the code after the loop reads '{leaked[0]}', which the loop leaves bound "
                "to its last item's value"
            )
        appended = _last_append(node.body)
        if appended is None:
            return sequential(self._why_not_a_map(node, loop_names))
        target, value, steps = appended
        if steps or unpack:
            return self._extract(
                node, variable, loop_names, target, value, [*unpack, *steps], line, column
            )
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

    def _extract(
        self,
        node: cst.For,
        variable: str,
        loop_names: set[str],
        target: str,
        value: cst.BaseExpression,
        steps: list[cst.BaseStatement],
        line: int,
        column: int,
    ) -> None:
        """A loop that computes each item's value in several statements, then appends it:
        the statements become a function of the item (the kernel), when nothing in them
        outlives the iteration."""

        def sequential(reason: str) -> None:
            self.found.append(Candidate(line, column, "for", reason, None, node))

        carried = _carried(node.body, loop_names)
        if carried:
            return sequential(
                f"'{carried}' carries a value from one iteration to the next (the next item "
                "depends on the previous one)"
            )
        changed = _changed_outside(steps)
        if changed:
            return sequential(
                f"the body changes `{changed}`, which outlives the iteration (each item's "
                "work must stay its own)"
            )
        init = self._list_before(node, target)
        if init is None:
            return sequential(
                f"'{target}' is not made empty (`{target} = []`) just before the loop: the "
                "items would be added to what it holds"
            )
        if target in _names(node.body) - {target} or target in _names(node.iter):
            return sequential(f"the body reads '{target}', the list it builds")
        if any(target in _names(step) for step in steps) or target in _names(value):
            return sequential(f"the body reads '{target}', the list it builds")
        read = set().union(*(_names(step) for step in steps)) | _names(value)
        local = (
            sorted((read & self.locals[-1]) - _bound_steps(steps) - {variable, target})
            if (self.locals)
            else []
        )
        name = self._fresh(f"{target}_item")
        parameters = [cst.Param(cst.Name(variable)), *(cst.Param(cst.Name(n)) for n in local)]
        function = cst.FunctionDef(
            name=cst.Name(name),
            params=cst.Parameters(params=parameters),
            body=cst.IndentedBlock(body=[*steps, cst.SimpleStatementLine([cst.Return(value)])]),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        replacement = Replacement(self._primitive(node.iter), _code(node.iter), name, tuple(local))
        # before the module statement holding the loop; for a loop at module level, before
        # the `NAME = []` that the rewrite makes the region call
        anchor = self.top[-1] if self.top and self.top[-1] is not node else init
        self.found.append(
            Candidate(
                line, column, "for", "", replacement, node, init=init, target=target,
                extracted=function, anchor=anchor,
            )
        )  # fmt: skip

    def _sum(self, node: cst.For, variable: str, line: int, column: int) -> bool:
        """``total = 0`` then ``for x in xs: total += f(x)``: the values in parallel, then
        ``total = sum(values, total)``, which adds them in the loop's order (the same
        rounding). Only from a number literal, so that ``+=`` adds and changes nothing in
        place. Whether it was this shape."""
        statements = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
            return False
        small = statements[0].body
        if not (
            len(small) == 1
            and isinstance(small[0], cst.AugAssign)
            and isinstance(small[0].operator, cst.AddAssign)
            and isinstance(small[0].target, cst.Name)
        ):
            return False
        total, value = small[0].target.value, small[0].value
        parent = self.get_metadata(ParentNodeProvider, node)
        body = list(getattr(parent, "body", ()))
        index = body.index(node) if node in body else 0
        before = body[index - 1] if index > 0 else None
        started = (
            isinstance(before, cst.SimpleStatementLine)
            and len(before.body) == 1
            and isinstance(before.body[0], cst.Assign)
            and len(before.body[0].targets) == 1
            and isinstance(before.body[0].targets[0].target, cst.Name)
            and before.body[0].targets[0].target.value == total
            and isinstance(before.body[0].value, cst.Integer | cst.Float)
        )
        if not started or total in _names(value) or total in _names(node.iter):
            return False
        kernel = self._kernel(variable, value)
        if isinstance(kernel, str):
            return False
        replacement = Replacement(self._primitive(node.iter), _code(node.iter), *kernel)
        self.found.append(
            Candidate(line, column, "for", "", replacement, node, target=total, summed=True)
        )
        return True

    def _fresh(self, wanted: str) -> str:
        """A module-level name not yet used in the program."""
        name, number = wanted, 1
        while name in self.module_names:
            number += 1
            name = f"{wanted}_{number}"
        self.module_names.add(name)
        return name

    def _read_after(self, node: cst.For) -> set[str]:
        """Names the statements after the loop in its block read; for a loop at module
        level, also every name read in the module's functions (they may read its globals)."""
        parent = self.get_metadata(ParentNodeProvider, node)
        body: Sequence[cst.CSTNode] = getattr(parent, "body", ())
        if not isinstance(body, Sequence) or node not in body:
            return set()
        statements = list(body)
        read: set[str] = set()
        bound: set[str] = set()  # rebound by a later statement before anything reads it
        for later in statements[statements.index(node) + 1 :]:
            reads, binds = _reads_then_binds(later)
            read |= reads - bound
            bound |= binds
        if not self.locals:
            read |= self.function_reads
        return read

    def _why_not_a_map(self, node: cst.For, loop_names: set[str]) -> str:
        """Why a loop's body is not one append per item: a value carried over, or more."""
        carried = _carried(node.body, loop_names)
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
        self._examine_comprehension(node)
        self._enter_comprehension(node.for_in)

    def _examine_comprehension(self, node: cst.ListComp) -> None:
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


def _last_append(
    body: cst.BaseSuite,
) -> tuple[str, cst.BaseExpression, list[cst.BaseStatement]] | None:
    """(list, value, the statements before) when ``body`` ends with ``LIST.append(VALUE)``
    and appends nowhere else."""
    if not isinstance(body, cst.IndentedBlock):  # `for x in xs: out.append(f(x))`
        single = _single_append(body)
        return None if single is None else (*single, [])
    statements = list(body.body)
    if not statements:
        return None
    last = _single_append(cst.IndentedBlock(body=[statements[-1]]))
    if last is None:
        return None
    steps = statements[:-1]
    if any(last[0] in _all_names(step) for step in steps):
        return None
    return last[0], last[1], steps


def _parameters(function: cst.FunctionDef) -> list[cst.Param]:
    parameters = function.params
    stars = [p for p in (parameters.star_arg, parameters.star_kwarg) if isinstance(p, cst.Param)]
    return [
        *parameters.posonly_params,
        *parameters.params,
        *parameters.kwonly_params,
        *stars,
    ]


def _reads_then_binds(statement: cst.CSTNode) -> tuple[set[str], set[str]]:
    """What a statement reads before it binds a name, and what it binds: a loop binds its
    variable before its body reads it, an assignment reads its value first."""
    if isinstance(statement, cst.For):
        targets = _target_names(statement.target)
        inside = _all_names(statement.body) | (
            _all_names(statement.orelse) if statement.orelse else set()
        )
        return _all_names(statement.iter) | (inside - targets), targets | _bound(statement.body)
    if (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Assign)
    ):
        assign = statement.body[0]
        targets = set().union(*(_target_names(t.target) for t in assign.targets))
        others = set().union(
            *(_all_names(t.target) for t in assign.targets if not isinstance(t.target, cst.Name))
        )
        return _all_names(assign.value) | others, targets
    return _all_names(statement), _bound(statement)


# builtins whose call on one item is cheap: a value made only of them, operators,
# subscripts and attributes is less work than sending the item to a worker
CHEAP_CALLS = frozenset(
    {"len", "str", "int", "float", "round", "abs", "bool", "repr", "format", "ord", "chr",
     "hash", "id", "isinstance", "tuple", "list", "dict", "set", "frozenset", "min", "max",
     "sum", "range", "enumerate", "zip", "divmod", "pow", "hex", "bin", "oct"}
)  # fmt: skip


def _does_work(value: cst.BaseExpression) -> bool:
    """Whether computing ``value`` calls anything but cheap builtins (a function of the
    program's, a library's, a method)."""
    visitor = _Calls()
    value.visit(visitor)
    return visitor.work


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.work = False

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value in CHEAP_CALLS):
            self.work = True


def _own_call(statement: cst.CSTNode, functions: set[str]) -> tuple[str, str, str] | None:
    """(name, function, argument) for ``NAME = FUNCTION(ARGUMENT)``: one of the program's own
    functions, one argument that is a name or a literal (evaluated before any call runs,
    it must not depend on what the calls do)."""
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    assign = statement.body[0]
    if not (
        isinstance(assign, cst.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0].target, cst.Name)
        and isinstance(assign.value, cst.Call)
        and isinstance(assign.value.func, cst.Name)
        and assign.value.func.value in functions
        and len(assign.value.args) == 1
        and assign.value.args[0].keyword is None
        and not assign.value.args[0].star
    ):
        return None
    argument = assign.value.args[0].value
    if not isinstance(argument, cst.Name | cst.Integer | cst.Float | cst.SimpleString):
        return None
    return assign.targets[0].target.value, assign.value.func.value, _code(argument)


def _all_names(node: cst.CSTNode) -> set[str]:
    """Every name a node reads or binds, nested functions and lambdas included."""
    visitor = _AllNames()
    node.visit(visitor)
    return visitor.names


class _AllNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def _comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp
    ) -> bool:
        """A comprehension's own variables are not the names outside it: only its first
        iterable is evaluated in the enclosing scope."""
        targets: set[str] = set()
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            targets |= _target_names(clause.target)
            clause = clause.inner_for_in
        inner = _AllNames()
        for child in node.children:
            child.visit(inner)
        self.names |= (inner.names - targets) | _all_names(node.for_in.iter)
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False


def _bound(body: cst.CSTNode) -> set[str]:
    """Names a block binds (assignments, augmented ones, loop and with targets)."""
    visitor = _Bound()
    body.visit(visitor)
    return visitor.names


def _bound_steps(steps: list[cst.BaseStatement]) -> set[str]:
    return set().union(*(_bound(step) for step in steps)) if steps else set()


class _Bound(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.names |= _target_names(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.names |= _target_names(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.names |= _target_names(node.target)

    def visit_For(self, node: cst.For) -> None:
        self.names |= _target_names(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self.names |= _target_names(node.name)

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        return False  # a comprehension's variable is its own

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return set().union(*(_target_names(e.value) for e in target.elements))
    return set()


def _changed_outside(steps: list[cst.BaseStatement]) -> str:
    """The first thing the statements change that outlives an iteration: an item or an
    attribute assigned (``d[k] = v``, ``obj.x = v``), a ``global`` or ``nonlocal`` name, a
    method called on a name the statements did not make (``log.append(x)``)."""
    made = _bound_steps(steps)
    visitor = _Changes(made)
    for step in steps:
        step.visit(visitor)
        if visitor.found:
            return visitor.found
    return ""


# methods that change the object they are called on (a list, dict or set of the program's)
CHANGING_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "update", "add", "discard",
     "setdefault", "popitem", "sort", "reverse", "write", "writerow", "send", "put"}
)  # fmt: skip


class _Changes(cst.CSTVisitor):
    def __init__(self, made: set[str]) -> None:
        self.made, self.found = made, ""

    def _note(self, node: cst.CSTNode) -> None:
        if not self.found:
            self.found = _code(node)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if not isinstance(node.target, cst.Name | cst.Tuple | cst.List):
            self._note(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if not isinstance(node.target, cst.Name):
            self._note(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self._note(node)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self._note(node)

    def visit_Call(self, node: cst.Call) -> None:
        function = node.func
        if (
            isinstance(function, cst.Attribute)
            and function.attr.value in CHANGING_METHODS
            and isinstance(function.value, cst.Name)
            and function.value.value not in self.made
        ):
            self._note(function)


def _single_append(body: cst.BaseSuite) -> tuple[str, cst.BaseExpression] | None:
    """(list, value) when ``body`` is exactly ``LIST.append(VALUE)``."""
    small: Sequence[cst.BaseSmallStatement]
    if isinstance(body, cst.SimpleStatementSuite):
        small = body.body
    else:
        statements = body.body if isinstance(body, cst.IndentedBlock) else []
        if len(statements) != 1 or not isinstance(statements[0], cst.SimpleStatementLine):
            return None
        small = statements[0].body
    if len(small) != 1 or not isinstance(small[0], cst.Expr):
        return None
    call = small[0].value
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


def _carried(body: cst.BaseSuite, loop_names: set[str]) -> str:
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
    bound: set[str] = set(loop_names)
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
