"""Analysis: the regions of a module and the closure of definitions their kernels need.

Read-only: nothing here changes the tree. The result is frozen data for the planner and the
transformer. Rules (docs/user-guide.md, "What a kernel may be"): a kernel is a module-level
function or class, an imported or builtin callable, a lambda or nested function that closes
over no local (hoisted to module level), or any other expression evaluated in the main
program; whatever module-level definition a kernel needs goes, transitively, to the shared
module. What cannot be shipped faithfully is refused with a diagnostic, never guessed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    Assignment,
    BuiltinAssignment,
    BuiltinScope,
    GlobalScope,
    ImportAssignment,
)

from .diagnostics import CompileError, Diagnostic
from .kernel_hazards import hazards
from .scope_index import PRIMITIVES, FoundCall, ScopeIndex, bound_name, build_index, walk
from .source import SourceFile

KEYWORDS = {
    "data_parallel_region": ("distr", "func"),
    "producer_consumer": ("producer", "consumer"),
    "bag_of_task": ("datas", "funcs"),
}


@dataclass(frozen=True)
class Hoisted:
    """A lambda or nested function kernel, lifted to module level in the shared module."""

    name: str
    node: cst.Lambda | cst.FunctionDef
    replaces: cst.CSTNode


@dataclass(frozen=True)
class KeptDefinition:
    """A module-level function or class that stays in Main.py, and why it cannot move."""

    name: str
    node: cst.FunctionDef | cst.ClassDef
    line: int
    column: int
    reason: str


@dataclass(frozen=True)
class RegionCall:
    """One call of a primitive in the source."""

    primitive: str
    node: cst.Call | cst.BaseExpression  # the call; for a value site, the reference
    line: int
    column: int
    data: cst.BaseExpression
    kernel: cst.BaseExpression
    kernel_name: str
    nested: bool
    # a primitive used as a value (`p = data_parallel_region`): ``node`` is that reference,
    # and the region runs whatever data and kernel it is called with later
    value_site: bool = False


@dataclass(frozen=True)
class ModuleAnalysis:
    """What the transformer needs to know; positions index ``module.body``."""

    module: cst.Module
    regions: tuple[RegionCall, ...]
    moved: frozenset[int]
    copied: frozenset[int]
    moved_names: tuple[str, ...]
    imported_by_main: tuple[str, ...]
    hoisted: tuple[Hoisted, ...]
    toreador_imports: frozenset[int]
    future_imports: frozenset[int]
    global_names: frozenset[str]
    imports_only_shipped: frozenset[str]
    warnings: tuple[Diagnostic, ...]
    # module-level definitions left in Main.py although the program passes them as values
    kept_in_main: tuple[KeptDefinition, ...] = ()
    # every identifier the program writes, in any scope: generated names must avoid them all
    all_names: frozenset[str] = frozenset()
    # reads of toreador.PrimitiveUsageError, under any import form: the runtime's class
    error_references: tuple[cst.BaseExpression, ...] = ()
    # names bound by the toreador imports, which the compiled program no longer has
    toreador_bound: frozenset[str] = frozenset()


class _Analysis:
    def __init__(self, source: SourceFile, index: ScopeIndex) -> None:
        self.source, self.index = source, index
        self.module = index.module
        self.errors: list[Diagnostic] = []
        self.hoisted: list[Hoisted] = []
        # every identifier of the program, in any scope: generated names avoid them all
        self.all_names = frozenset(index.names)
        self.root_nodes: dict[int, cst.CSTNode] = {}  # a root statement: the definition used
        self._hoisted_cache: tuple[int, frozenset[int]] = (0, frozenset())
        self.global_scope = index.global_scope
        self.deps = self._dependencies()
        self.global_names = (
            frozenset(a.name for a in self.global_scope.assignments if isinstance(a, Assignment))
            if self.global_scope is not None
            else frozenset()
        )

    # -- helpers ---------------------------------------------------------------------------
    def error(self, node: cst.CSTNode, message: str) -> None:
        line, column = self.index.position(node)
        self.errors.append(self.source.diagnostic(message, line, column))

    def where(self, node: cst.CSTNode) -> str:
        return f"line {self.index.position(node)[0]}"

    def _dependencies(self) -> dict[int, dict[int, cst.Name]]:
        """For each top-level statement, the statements defining the globals it reads."""
        deps: dict[int, dict[int, cst.Name]] = {}
        for name, access in self.index.access_of.items():
            top = self.index.top_of.get(name, -1)
            for referent in access.referents:
                if isinstance(referent.scope, GlobalScope) and isinstance(
                    referent, Assignment | ImportAssignment
                ):
                    defined_at = self.index.top_of.get(referent.node, -1)
                    if defined_at >= 0 and defined_at != top:
                        deps.setdefault(top, {}).setdefault(defined_at, name)
        return deps

    def statement_kind(self, top: int) -> str:
        """'import', 'toreador', 'definition', or why the statement cannot be shipped."""
        if top in self.index.toreador_imports:
            return "toreador"
        statement = self.module.body[top]
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            return "definition"
        if isinstance(statement, cst.SimpleStatementLine):
            smalls = statement.body
            if all(isinstance(s, cst.Import | cst.ImportFrom) for s in smalls):
                return "import"
            if any(isinstance(s, cst.AugAssign) for s in smalls):
                return "is changed by an augmented assignment"
            if all(
                isinstance(s, cst.Assign | cst.AnnAssign | cst.Import | cst.ImportFrom)
                for s in smalls
            ):
                return "definition"
            return "is set by a statement that also runs code"
        # Blocks such as `try: import x / except ImportError: x = None` or `if TYPE_CHECKING:`
        # are copied like imports: their names may not exist at run time, so Main.py keeps
        # its own copy instead of importing those names from the shared module.
        if isinstance(statement, cst.If):
            if "__name__" in self.module.code_for_node(statement.test):
                return 'is set inside `if __name__ == "__main__"`, which workers never run'
            if self._only_definitions(statement):
                return "import"
            return "is set inside an `if` block that also runs code"
        if isinstance(statement, cst.Try):
            if self._only_definitions(statement):
                return "import"
            return "is set inside a `try` block that also runs code"
        return f"is set by a module-level `{type(statement).__name__.lower()}` statement"

    def _only_definitions(self, node: cst.CSTNode) -> bool:
        """Blocks such as `try: import x / except ImportError: x = None` are definitions."""
        plain = (cst.Import, cst.ImportFrom, cst.Assign, cst.AnnAssign, cst.Pass)
        for child in walk(node):
            if isinstance(child, cst.SimpleStatementLine) and not all(
                isinstance(s, plain) for s in child.body
            ):
                return False
            if isinstance(child, cst.For | cst.While | cst.With):
                return False
        return True

    # -- closure ---------------------------------------------------------------------------
    def closure(self, roots: dict[int, str], report: bool) -> tuple[set[int], set[int], bool]:
        """Statements to move and to copy for these roots (top index -> who needs it)."""
        moved: set[int] = set()
        copied: set[int] = set()
        ok = True
        # (statement, who needs it, the definition it needs there when known)
        stack: list[tuple[int, str, cst.CSTNode | None]] = [
            (top, label, self.root_nodes.get(top)) for top, label in roots.items()
        ]
        while stack:
            top, needed_by, definition = stack.pop()
            if top in moved or top in copied:
                continue
            kind = self.statement_kind(top)
            if kind == "toreador":
                continue
            if kind == "import":
                copied.add(top)
                for dep, name in self.deps.get(top, {}).items():
                    stack.append(
                        (
                            dep,
                            f"the block at {self.where(self.module.body[top])} uses "
                            f"global '{name.value}'",
                            self._definition_in(dep, name),
                        )
                    )
                continue
            if kind != "definition":
                ok = False
                if report:
                    self._cannot_ship(top, needed_by, kind, definition)
                continue
            moved.add(top)
            for dep, name in self.deps.get(top, {}).items():
                stack.append(
                    (
                        dep,
                        f"{self._describe(top)} uses global '{name.value}'",
                        self._definition_in(dep, name),
                    )
                )
        return moved, copied, ok

    def _cannot_ship(
        self, top: int, needed_by: str, kind: str, definition: cst.CSTNode | None
    ) -> None:
        if kind.startswith("is set inside `if __name__") and definition is not None:
            if isinstance(definition, cst.FunctionDef | cst.ClassDef):
                self.error(
                    definition,
                    f'{needed_by}, which is defined inside `if __name__ == "__main__":`; '
                    "workers never run that block: move the definition out of the guard, to "
                    "module level",
                )
            else:  # a value, often computed from the command line: it travels with the call
                self.error(
                    definition,
                    f'{needed_by}, which is set inside `if __name__ == "__main__":`; workers '
                    "never run that block: pass the value as a replicated argument",
                )
            return
        self.error(
            self.module.body[top],
            f"{needed_by}, which {kind}; workers "
            "would not see it: pass the value as a replicated argument",
        )

    def _definition_in(self, top: int, name: cst.Name) -> cst.CSTNode | None:
        """Where statement ``top`` defines the global that ``name`` reads."""
        access = self.index.access_of.get(name)
        for referent in access.referents if access is not None else ():
            if isinstance(referent, Assignment) and self.index.top_of.get(referent.node) == top:
                return referent.node
        return None

    def _describe(self, top: int) -> str:
        statement = self.module.body[top]
        if isinstance(statement, cst.FunctionDef):
            return f"function '{statement.name.value}'"
        if isinstance(statement, cst.ClassDef):
            return f"class '{statement.name.value}'"
        return f"the definition at {self.where(statement)}"

    # -- kernels ---------------------------------------------------------------------------
    def kernel_roots(self, call: FoundCall) -> tuple[RegionCall | None, dict[int, str]]:
        node = call.node
        names = KEYWORDS[call.primitive]
        positional = [a for a in node.args if a.keyword is None]
        by_keyword = {a.keyword.value: a for a in node.args if a.keyword is not None}
        args: list[cst.Arg | None] = []
        for position, keyword in enumerate(names):
            if position < len(positional) and positional[position].star == "":
                args.append(positional[position])
            else:
                args.append(by_keyword.get(keyword))
        if any(a is None for a in args) or any(a is not None and a.star for a in args):
            self.error(
                node,
                f"{call.primitive} needs its {names[0]} and {names[1]} as direct "
                "arguments, so that toreador can see the kernel",
            )
            return None, {}
        data_arg, kernel_arg = args[0], args[1]
        assert data_arg is not None and kernel_arg is not None
        kernel = kernel_arg.value
        roots: dict[int, str] = {}
        kernels: list[cst.BaseExpression] = [kernel]
        if call.primitive == "bag_of_task" and isinstance(kernel, cst.List | cst.Tuple):
            kernels = [e.value for e in kernel.elements if isinstance(e, cst.Element)]
        for expression in kernels:
            self._kernel(expression, roots)
        line, column = self.index.position(node)
        region = RegionCall(
            call.primitive,
            node,
            line,
            column,
            data_arg.value,
            kernel,
            self._kernel_name(kernel),
            nested=False,
        )
        return region, roots

    def _kernel_name(self, kernel: cst.BaseExpression) -> str:
        if isinstance(kernel, cst.Lambda):
            return f"<lambda at line {self.index.position(kernel)[0]}>"
        code = self.module.code_for_node(kernel).strip()
        return code if len(code) <= 60 else code[:57] + "..."

    def _kernel(self, kernel: cst.BaseExpression, roots: dict[int, str]) -> None:
        label = f"kernel '{self._kernel_name(kernel)}'"
        if isinstance(kernel, cst.Lambda):
            self._hoist(kernel, kernel, roots, label)
            return
        if isinstance(kernel, cst.Name):
            access = self.index.access_of.get(kernel)
            referents = access.referents if access is not None else set()
            if not referents:
                self.error(
                    kernel,
                    f"undefined kernel '{kernel.value}': no function, class or "
                    "import of that name is visible here",
                )
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
        for name in _names_in(kernel):
            access = self.index.access_of.get(name)
            if access is not None:
                self._global_roots(access.referents, roots, label)

    def _global_roots(self, referents: Iterable[object], roots: dict[int, str], label: str) -> None:
        for referent in referents:
            if isinstance(referent, Assignment) and isinstance(referent.scope, GlobalScope):
                top = self.index.top_of[referent.node]
                roots.setdefault(top, label)
                self.root_nodes.setdefault(top, referent.node)

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
        top = self.index.top_of.get(target, -1)
        if top < 0:
            return None
        for node in walk(self.module.body[top]):
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
        inside = {id(n) for n in walk(definition)}
        captured: list[tuple[cst.Name, object]] = []
        for name in _names_in(definition):
            access = self.index.access_of.get(name)
            if access is None:
                continue
            for referent in access.referents:
                if isinstance(referent, BuiltinAssignment) or isinstance(
                    referent.scope, BuiltinScope
                ):
                    continue
                if isinstance(referent.scope, GlobalScope):
                    if isinstance(referent, Assignment):
                        roots.setdefault(self.index.top_of[referent.node], label)
                    continue
                if id(getattr(referent, "node", None)) not in inside:
                    captured.append((name, referent))
        if captured:
            name = captured[0][0]
            kind = "lambda" if isinstance(definition, cst.Lambda) else "nested function"
            self.error(
                name,
                f"{label} is a {kind} that closes over local '{name.value}'; "
                "workers cannot see it: pass it as a replicated argument, e.g. "
                f"data_parallel_region(items, f, {name.value})",
            )
            return
        for earlier in self.hoisted:
            if earlier.node is definition:
                self.hoisted.append(Hoisted(earlier.name, definition, replaces))
                return
        line = self.index.position(definition)[0]
        if isinstance(definition, cst.Lambda):
            base = f"lambda_line_{line}"
        else:
            # A new name: the nested definition stays where it is in Main.py, and its local
            # name there would shadow an import of the same name.
            base = f"{definition.name.value}_line_{line}"
        taken = self.all_names | {h.name for h in self.hoisted}
        hoisted_name = base
        while hoisted_name in taken:
            hoisted_name += "_"
        self.hoisted.append(Hoisted(hoisted_name, definition, replaces))

    # -- whole module ----------------------------------------------------------------------
    def run(self) -> ModuleAnalysis:
        index = self.index
        warnings: list[Diagnostic] = []
        for star in index.star_imports:
            self.error(
                star,
                "`from toreador import *` hides which names are primitives; import them by name",
            )
        regions: list[RegionCall] = []
        roots: dict[int, str] = {}
        for call in index.calls:
            region, needed = self.kernel_roots(call)
            if region is not None:
                regions.append(region)
                self._before_definitions(region, needed)
                for top, label in needed.items():
                    roots.setdefault(top, label)
        error_references = []
        for reference in index.references:
            primitive = PRIMITIVES.get(f"toreador.{reference.name}")
            if primitive is not None:
                line, column = index.position(reference.node)
                regions.append(
                    RegionCall(
                        primitive,
                        reference.node,
                        line,
                        column,
                        reference.node,
                        reference.node,
                        "(given when called)",
                        nested=False,
                        value_site=True,
                    )
                )
            elif reference.name == "PrimitiveUsageError":
                error_references.append(reference.node)
            else:
                shown = self.module.code_for_node(reference.node)
                self.error(
                    reference.node,
                    f"`{shown}`: a compiled program has no toreador module (its folder "
                    "imports nothing from toreador); only the primitives and "
                    "PrimitiveUsageError can be used, by name",
                )
        regions.sort(key=lambda r: (r.line, r.column))
        moved, copied, _ = self.closure(roots, report=True)
        if self.errors:
            raise CompileError(sorted(set(self.errors), key=lambda d: (d.line, d.column)))
        warnings += self._hazard_warnings(moved, roots, regions)
        warnings += self._argument_warnings(regions)
        # Every other module-level class, and every function the program uses as a value,
        # is shipped too when that changes nothing for the main program: a kernel may reach
        # it by value (a parameter, an attribute, an item, a partial), and a worker that
        # unpickles it must find it under the module name it was pickled with. Functions
        # only ever called by name stay in Main.py. Classes first: regions in their methods
        # count as nested, as before; regions in other shipped functions run from Main.py.
        kept: list[KeptDefinition] = []
        baseline = self._write_problems(moved)
        for kinds in ((cst.ClassDef,), (cst.FunctionDef,)):
            for top, statement in enumerate(self.module.body):
                if top in moved or not isinstance(statement, kinds):
                    continue
                if isinstance(statement, cst.FunctionDef) and not self._used_as_value(statement):
                    continue
                found = self._optional_move(top, moved, baseline)
                if isinstance(found, str):
                    if self._used_as_value(statement):  # else nothing can pickle it
                        kept.append(self._kept(statement, found))
                    continue
                moved |= found[0]
                copied |= found[1]
            if kinds == (cst.ClassDef,):
                nested_tops = set(moved)
        self._check_writes(moved)
        if self.errors:
            raise CompileError(sorted(set(self.errors), key=lambda d: (d.line, d.column)))
        kept = [k for k in kept if k.name not in self._names_defined(moved)]
        regions = [
            RegionCall(
                r.primitive,
                r.node,
                r.line,
                r.column,
                r.data,
                r.kernel,
                r.kernel_name,
                nested=index.top_of.get(r.node, -1) in nested_tops or self._in_hoisted(r),
                value_site=r.value_site,
            )
            for r in regions
        ]
        if not regions:
            warnings.append(
                self.source.diagnostic(
                    "no parallel region found: Main.py runs the program sequentially",
                    1,
                    1,
                    "warning",
                )
            )
        moved_names = self._names_defined(moved)
        future = frozenset(
            i
            for i, s in enumerate(self.module.body)
            if isinstance(s, cst.SimpleStatementLine)
            and any(
                isinstance(x, cst.ImportFrom)
                and isinstance(x.module, cst.Name)
                and x.module.value == "__future__"
                for x in s.body
            )
        )
        return ModuleAnalysis(
            module=self.module,
            regions=tuple(regions),
            moved=frozenset(moved),
            copied=frozenset(copied - future),
            moved_names=moved_names,
            imported_by_main=self._names_defined(moved, still_used=True),
            hoisted=tuple(self.hoisted),
            toreador_imports=frozenset(index.toreador_imports),
            future_imports=future,
            global_names=self.global_names,
            imports_only_shipped=self._imports_only_shipped(moved),
            warnings=tuple(warnings),
            kept_in_main=tuple(kept),
            all_names=self.all_names,
            error_references=tuple(error_references),
            toreador_bound=frozenset(
                bound
                for top in index.toreador_imports
                for node in walk(self.module.body[top])
                if isinstance(node, cst.ImportAlias)
                for bound in [bound_name(node)]
            ),
        )

    def _hazard_warnings(
        self, moved: set[int], roots: dict[int, str], regions: list[RegionCall]
    ) -> list[Diagnostic]:
        """Where the code kernels run uses what no worker can give it as the sequential run
        did: global random state, standard input, the module's identity (kernel_hazards)."""
        shipped: list[cst.CSTNode] = [self.module.body[top] for top in sorted(moved)]
        shipped += [h.node for h in self.hoisted]
        hoisted_labels = {
            id(node): f"kernel '{self._kernel_name(h.replaces)}'"
            for h in self.hoisted
            if isinstance(h.replaces, cst.BaseExpression)
            for node in walk(h.node)
        }
        for region in regions:  # the kernel expression itself, e.g. `input`
            for node in walk(region.kernel):
                hoisted_labels.setdefault(id(node), f"kernel '{region.kernel_name}'")
        found = hazards([*shipped, *(r.kernel for r in regions)], self.index)
        hoisted = self._hoisted_ids()
        warnings = []
        for use in found:
            if (
                use.kind == "identity"
                and self.index.top_of.get(use.node, -1) not in moved
                and id(use.node) not in hoisted
            ):
                continue  # evaluated in Main.py, where it reads as in the source
            line, column = self.index.position(use.node)
            who = (
                hoisted_labels.get(id(use.node))
                or roots.get(self.index.top_of.get(use.node, -1))
                or "code that kernels run"
            )
            shown = use.name.removeprefix("builtins.")
            message = f"{who} {_HAZARDS[use.kind](shown)}"
            warnings.append(self.source.diagnostic(message, line, column, "warning"))
        return warnings

    # -- optional shipping ------------------------------------------------------------------
    @contextlib.contextmanager
    def _errors_aside(self) -> Iterator[list[Diagnostic]]:
        """Diagnostics of a trial run of a rule, kept apart from the program's own."""
        saved, self.errors = self.errors, []
        try:
            yield self.errors
        finally:
            self.errors = saved

    def _write_problems(self, moved: set[int]) -> set[Diagnostic]:
        """The write diagnostics that shipping ``moved`` would raise (nothing is recorded)."""
        with self._errors_aside() as problems:
            self._check_writes(moved)
        return set(problems)

    def _optional_move(
        self, top: int, moved: set[int], baseline: set[Diagnostic]
    ) -> tuple[set[int], set[int]] | str:
        """What shipping a definition no kernel names would add, or why it must stay.

        It stays in Main.py when moving it could change what the main program does: its
        needs cannot be shipped, shipping it would raise a write diagnostic, it reads the
        module's identity (``__name__``, ``__file__``), it is a function with a decorator
        that may act when the module is imported, or it needs a global computed by code
        (the workers would compute it again, e.g. from their own ``sys.argv``).
        """
        with self._errors_aside() as reasons:
            extra_moved, extra_copied, ok = self.closure({top: ""}, report=True)
        if not ok:
            return reasons[0].message if reasons else "what it needs cannot be shipped"
        added = extra_moved - moved
        for needed in sorted(added):
            statement = self.module.body[needed]
            identity = [h for h in hazards([statement], self.index) if h.kind == "identity"]
            if identity:
                return f"{self._describe(needed)} reads `{identity[0].name}`"
            if needed == top and isinstance(statement, cst.FunctionDef):
                for decorator in statement.decorators:
                    if not _pure_decorator(self.module.code_for_node(decorator.decorator)):
                        return "its decorator may act when the module is imported"
            if not isinstance(statement, cst.FunctionDef | cst.ClassDef) and not (
                _constant_definition(statement, self.module)
            ):
                return (
                    f"it needs the global set at {self.where(statement)} by code that "
                    "workers would run again"
                )
        trial = moved | extra_moved
        problems = self._write_problems(trial) - baseline
        if problems:
            return min(problems, key=lambda d: (d.line, d.column)).message
        return extra_moved, extra_copied

    def _kept(self, statement: cst.FunctionDef | cst.ClassDef, reason: str) -> KeptDefinition:
        line, column = self.index.position(statement.name)
        return KeptDefinition(statement.name.value, statement, line, column, reason)

    def _used_as_value(self, node: cst.FunctionDef | cst.ClassDef) -> bool:
        """Whether the program uses the definition other than by calling it by name."""
        if self.global_scope is None:
            return False
        for assignment in self.global_scope.assignments[node.name.value]:
            if not isinstance(assignment, Assignment) or assignment.node is not node:
                continue
            for access in assignment.references:
                if not self._called_directly(access.node):
                    return True
        return False

    def _called_directly(self, name: cst.CSTNode) -> bool:
        return id(name) in self.index.direct_uses  # called, or an attribute read (C.m(...))

    def _imports_only_shipped(self, moved: set[int]) -> frozenset[str]:
        """Imported names used, but only by code that moved to the shared module: Main.py
        need not import them any more (names never used at all are left alone)."""
        if self.global_scope is None:
            return frozenset()
        hoisted_nodes = self._hoisted_ids()
        names = set()
        for assignment in self.global_scope.assignments:
            if not isinstance(assignment, ImportAssignment) or not assignment.references:
                continue
            if all(
                self.index.top_of.get(access.node, -1) in moved or id(access.node) in hoisted_nodes
                for access in assignment.references
            ):
                names.add(assignment.name)
        return frozenset(names)

    def _in_hoisted(self, region: RegionCall) -> bool:
        return id(region.node) in self._hoisted_ids()

    def _hoisted_ids(self) -> frozenset[int]:
        """Ids of every node of the hoisted kernels (known once the kernels are found)."""
        if self._hoisted_cache[0] != len(self.hoisted):
            ids = frozenset(id(n) for h in self.hoisted for n in walk(h.node))
            self._hoisted_cache = (len(self.hoisted), ids)
        return self._hoisted_cache[1]

    def _names_defined(self, moved: set[int], still_used: bool = False) -> tuple[str, ...]:
        """Names defined by moved statements (with ``still_used``: only those that the code
        staying in Main.py uses, which Main.py imports back)."""
        if self.global_scope is None:
            return ()
        names = set()
        for assignment in self.global_scope.assignments:
            if not isinstance(assignment, Assignment | ImportAssignment):
                continue
            if self.index.top_of.get(assignment.node, -1) not in moved:
                continue
            if not still_used or any(
                self.index.top_of.get(access.node, -1) not in moved
                for access in assignment.references
            ):
                names.add(assignment.name)
        return tuple(sorted(names))

    def _check_writes(self, moved: set[int]) -> None:
        """Refuse rebinding or mutating a shipped global where the workers would not see it."""
        if self.global_scope is None:
            return
        shipped: dict[str, Assignment] = {}
        for assignment in self.global_scope.assignments:
            if not isinstance(assignment, Assignment):
                continue
            top = self.index.top_of.get(assignment.node, -1)
            inside_function = (
                top >= 0
                and isinstance(self.module.body[top], cst.FunctionDef | cst.ClassDef)
                and assignment.node is not self.module.body[top]
            )
            if top in moved and not inside_function:
                earlier = shipped.get(assignment.name)
                if earlier is None or self.index.top_of[earlier.node] > top:
                    shipped[assignment.name] = assignment
        for name, assignment in shipped.items():
            home = self.index.top_of[assignment.node]
            for other in self.global_scope.assignments[name]:
                if not isinstance(other, Assignment):
                    continue
                other_top = self.index.top_of.get(other.node, -1)
                if other_top in (home, -1):
                    continue
                if isinstance(self.module.body[other_top], cst.FunctionDef | cst.ClassDef):
                    continue  # a `global` declaration there: reported below
                self.error(
                    other.node,
                    f"global '{name}', which kernels use, is assigned "
                    f"again here (first at {self.where(assignment.node)}); workers "
                    "would only see the first value: pass it as a replicated argument",
                )
        for declaration, top in self.index.global_decls:
            for item in declaration.names:
                if top in moved or item.name.value in shipped:
                    where = "a function shipped to workers" if top in moved else "the program"
                    self.error(
                        item.name,
                        f"global '{item.name.value}' is rebound by {where} through "
                        "`global`; workers do not share globals with the main program",
                    )
        for base, top in self.index.mutations:
            if top in moved or base.value not in shipped:
                continue
            access = self.index.access_of.get(base)
            if access is not None and shipped[base.value] in access.referents:
                self.error(
                    base,
                    f"global '{base.value}', which kernels use, is changed here; "
                    "workers would not see the change: pass it as a replicated argument",
                )
        # the other way round: shipped code (it runs in the workers) changing a global in
        # place changes the worker's copy only; refused when the main program reads that
        # global (a cache only the kernels read is fine)
        shipped_code = {
            top
            for top in moved
            if isinstance(self.module.body[top], cst.FunctionDef | cst.ClassDef)
        }
        hoisted = self._hoisted_ids()
        for base, top in self.index.mutations:
            if top not in shipped_code and id(base) not in hoisted:
                continue
            access = self.index.access_of.get(base)
            referents = access.referents if access is not None else ()
            if any(
                isinstance(r, Assignment)
                and isinstance(r.scope, GlobalScope)
                and any(
                    self.index.top_of.get(read.node, -1) not in moved
                    and id(read.node) not in hoisted
                    for read in r.references
                )
                for r in referents
            ):
                self.error(
                    base,
                    f"global '{base.value}' is changed in place by code that kernels run; each "
                    "worker changes its own copy and the main program never sees it: return "
                    "the value from the kernel and combine the results instead",
                )

    def _before_definitions(self, region: RegionCall, needed: dict[int, str]) -> None:
        """Refuse a region that module-level code runs before a definition its kernel needs:
        the sequential program stops there with NameError, the shared module would not."""
        top = self.index.top_of.get(region.node, -1)
        if top < 0 or isinstance(self.module.body[top], cst.FunctionDef | cst.ClassDef):
            return  # runs when its function is called, after the module has been read
        moved, _, _ = self.closure(needed, report=False)  # records nothing
        late = sorted(t for t in moved if t > top)
        if late:
            what = self._describe(late[0])
            if isinstance(self.module.body[late[0]], cst.FunctionDef | cst.ClassDef):
                what += f" ({self.where(self.module.body[late[0]])})"
            self.error(
                region.node,
                f"this region runs before {what}, which its "
                f"kernel {region.kernel_name} needs: the sequential program stops here with "
                "NameError; define it before the region runs",
            )

    def _argument_warnings(self, regions: list[RegionCall]) -> list[Diagnostic]:
        """Kernels that change an argument in place (an item, a replicated argument): the
        sequential program sees the change, the workers change copies."""
        kernels: dict[int, tuple[cst.FunctionDef, str]] = {}
        for region in regions:
            for definition in self._kernel_definitions(region.kernel):
                kernels.setdefault(id(definition), (definition, region.kernel_name))
        warnings = []
        for definition, kernel_name in kernels.values():
            inside = {id(node) for node in walk(definition.body)}
            for base, _top in self.index.mutations:
                if id(base) not in inside:
                    continue
                access = self.index.access_of.get(base)
                referents = access.referents if access is not None else ()
                if not any(
                    isinstance(r, Assignment)
                    and isinstance(r.node, cst.Param)
                    and any(r.node is p for p in _parameters(definition))
                    for r in referents
                ):
                    continue
                line, column = self.index.position(base)
                warnings.append(
                    self.source.diagnostic(
                        f"kernel '{kernel_name}' changes its argument '{base.value}' in place; "
                        "each worker changes its own copy, so the main program's item or "
                        "replicated argument stays as it was and later items do not see the "
                        "change: return what the kernel computes instead",
                        line,
                        column,
                        "warning",
                    )
                )
        return warnings

    def _kernel_definitions(self, kernel: cst.BaseExpression) -> list[cst.FunctionDef]:
        """The functions a kernel expression names directly (module-level or hoisted)."""
        found = []
        for h in self.hoisted:
            if h.replaces is kernel and isinstance(h.node, cst.FunctionDef):
                found.append(h.node)
        if isinstance(kernel, cst.Name):
            access = self.index.access_of.get(kernel)
            for referent in access.referents if access is not None else ():
                if isinstance(referent, Assignment) and isinstance(referent.node, cst.FunctionDef):
                    found.append(referent.node)
        return found


_HAZARDS = {
    "random": lambda name: (
        f"uses the global random state (`{name}`): each worker draws from its own copy, so "
        "the numbers differ from the sequential run's and from run to run; give each item "
        "its own generator, e.g. random.Random(seed) or numpy.random.default_rng(seed), with "
        "the seed passed as part of the item or as a replicated argument"
    ),
    "stdin": lambda name: (
        f"reads standard input (`{name}`), which workers do not have (they meet its end at "
        "once); read it in the main program and pass what was read as items or as a "
        "replicated argument"
    ),
    "identity": lambda name: (
        f"reads `{name}`, which where kernels run names the generated shared module, not "
        "the program's own (`__main__`, the source file); pass the value as a replicated "
        "argument if the kernel needs it"
    ),
}
# Decorators known to act only on the function they wrap.
_PURE_DECORATORS = frozenset(
    {
        "cache",
        "lru_cache",
        "wraps",
        "functools.cache",
        "functools.lru_cache",
        "functools.wraps",
        "jit",
        "njit",
        "numba.jit",
        "numba.njit",
        "staticmethod",
        "classmethod",
    }
)
# Calls whose result is a constant, in a module-level value that a shipped function needs.
_CONSTANT_CALLS = frozenset(
    {
        "frozenset",
        "set",
        "dict",
        "list",
        "tuple",
        "range",
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "Decimal",
        "Fraction",
        "re.compile",
        "namedtuple",
        "collections.namedtuple",
        "TypeVar",
        "typing.TypeVar",
        "NewType",
        "typing.NewType",
        "math.sqrt",
        "math.log",
        "math.exp",
    }
)


def _parameters(definition: cst.FunctionDef) -> list[cst.Param]:
    params = definition.params
    star = [params.star_arg] if isinstance(params.star_arg, cst.Param) else []
    kwargs = [params.star_kwarg] if params.star_kwarg is not None else []
    return [*params.posonly_params, *params.params, *star, *params.kwonly_params, *kwargs]


def _pure_decorator(code: str) -> bool:
    return code.split("(", 1)[0].strip() in _PURE_DECORATORS


def _constant_definition(statement: cst.CSTNode, module: cst.Module) -> bool:
    """A module-level definition whose value is the same wherever it is evaluated: literals,
    names, operators and containers, and calls of a few constant builders; no access to
    ``sys`` or ``os`` (argv and the environment differ in a worker)."""
    for node in walk(statement):
        if isinstance(node, cst.Call):
            if module.code_for_node(node.func).strip() not in _CONSTANT_CALLS:
                return False
        elif isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and base.value in ("sys", "os"):
                return False
        elif isinstance(node, cst.Await | cst.Yield | cst.NamedExpr):
            return False
    return True


def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
    return (n for n in walk(node) if isinstance(n, cst.Name))


def analyse_module(source: SourceFile, module: cst.Module) -> ModuleAnalysis:
    """Find the regions and the kernels' closure; raise CompileError with every problem."""
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)  # analysis never mutates
    index = build_index(wrapper)
    return _Analysis(source, index).run()
