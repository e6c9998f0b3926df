"""The kernels' closure: which module-level statements go to the shared module.

A kernel needs the definitions it reads, transitively. A function, class or constant
definition is moved (Main.py imports it back); an import or a block of imports is copied;
anything else cannot be shipped faithfully and is refused (TR2xx), never guessed. Other
definitions the program passes by value are shipped too when that changes nothing for the
main program (``optional_move``).
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import Assignment, GlobalScope, ImportAssignment

from ..diagnostics import Diagnostic
from ..kernel_hazards import hazards
from ..messages import CannotShip, DefinedUnderMainGuard, SetUnderMainGuard
from ..path_folders import PATH_CALLS
from ..scope_index import walk
from .context import Context
from .writes import write_problems

# Decorators known to act only on the function they wrap.
PURE_DECORATORS = frozenset(
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
CONSTANT_CALLS = frozenset(
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
_MAIN_GUARD = 'is set inside `if __name__ == "__main__"`, which workers never run'


class Closure:
    """The closure rules over one module; ``roots`` map a statement to who needs it."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.module = context.module
        # the definition a root needs, when a kernel names it (for a precise diagnostic)
        self.root_nodes: dict[int, cst.CSTNode] = {}
        self.deps = self._dependencies()

    def _dependencies(self) -> dict[int, dict[int, cst.Name]]:
        """For each top-level statement, the statements defining the globals it reads."""
        index = self.context.index
        deps: dict[int, dict[int, cst.Name]] = {}
        for name, access in index.access_of.items():
            top = index.top_of.get(name, -1)
            for referent in access.referents:
                if isinstance(referent.scope, GlobalScope) and isinstance(
                    referent, Assignment | ImportAssignment
                ):
                    defined_at = index.top_of.get(referent.node, -1)
                    if defined_at >= 0 and defined_at != top:
                        deps.setdefault(top, {}).setdefault(defined_at, name)
        # a registrar goes with every definition it registers (``Context.registrars``)
        body = self.module.body
        for registrar, decorated in self.context.registrars().items():
            for top in decorated:
                definition = body[top]
                assert isinstance(definition, cst.FunctionDef | cst.ClassDef)
                deps.setdefault(registrar, {}).setdefault(top, definition.name)
        return deps

    def statement_kind(self, top: int) -> str:
        """'import', 'toreador', 'definition', or why the statement cannot be shipped."""
        if top in self.context.index.toreador_imports:
            return "toreador"
        statement = self.module.body[top]
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            return "definition"
        if is_path_setup(statement, self.module):
            return "import"  # copied: the imports after it find their modules with it
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
                return _MAIN_GUARD
            if _only_definitions(statement):
                return "import"
            return "is set inside an `if` block that also runs code"
        if isinstance(statement, cst.Try):
            if _only_definitions(statement):
                return "import"
            return "is set inside a `try` block that also runs code"
        return f"is set by a module-level `{type(statement).__name__.lower()}` statement"

    def closure(self, roots: dict[int, str], report: bool) -> tuple[set[int], set[int], bool]:
        """Statements to move and to copy for these roots (top index -> who needs it), and
        whether all of them can be shipped (with ``report``, each that cannot is an error)."""
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
            if kind not in ("import", "definition"):
                ok = False
                if report:
                    self._cannot_ship(top, needed_by, kind, definition)
                continue
            (copied if kind == "import" else moved).add(top)
            who = (
                f"the block at {self.context.where(self.module.body[top])}"
                if kind == "import"
                else self.context.describe(top)
            )
            for dep, name in self.deps.get(top, {}).items():
                needs = f"{who} uses global '{name.value}'"
                stack.append((dep, needs, self._definition_in(dep, name)))
        return moved, copied, ok

    def path_setups(self, shipped: set[int]) -> dict[int, str]:
        """The module-level ``sys.path`` changes that precede an import the shared module
        copies (``sys.path.insert(0, vendor)`` then ``import helper``): the shared module
        must make them too, before its imports, or Main.py's import of it fails."""
        imports = [top for top in shipped if self.statement_kind(top) == "import"]
        last = max(imports, default=-1)
        return {
            top: f"the import at {self.context.where(self.module.body[last])}"
            for top, statement in enumerate(self.module.body[: max(last, 0)])
            if top not in shipped and is_path_setup(statement, self.module)
        }

    def _cannot_ship(
        self, top: int, needed_by: str, kind: str, definition: cst.CSTNode | None
    ) -> None:
        if kind == _MAIN_GUARD and definition is not None:
            if isinstance(definition, cst.FunctionDef | cst.ClassDef):
                self.context.report(definition, DefinedUnderMainGuard(needed_by))
            else:  # a value, often computed from the command line: it travels with the call
                self.context.report(definition, SetUnderMainGuard(needed_by))
            return
        self.context.report(self.module.body[top], CannotShip(needed_by, kind))

    def _definition_in(self, top: int, name: cst.Name) -> cst.CSTNode | None:
        """Where statement ``top`` defines the global that ``name`` reads."""
        index = self.context.index
        access = index.access_of.get(name)
        for referent in access.referents if access is not None else ():
            if isinstance(referent, Assignment) and index.top_of.get(referent.node) == top:
                return referent.node
        return None

    def optional_move(
        self, top: int, moved: set[int], baseline: set[Diagnostic]
    ) -> tuple[set[int], set[int]] | str:
        """What shipping a definition no kernel names would add, or why it must stay.

        It stays in Main.py when moving it could change what the main program does: its
        needs cannot be shipped, shipping it would raise a write diagnostic, it reads the
        module's identity (``__name__``, ``__file__``), it is a function with a decorator
        that may act when the module is imported, or it needs a global computed by code
        (the workers would compute it again, e.g. from their own ``sys.argv``). ``baseline``:
        the write diagnostics the kernels' own closure would raise, not this definition's.
        """
        context = self.context
        with context.errors_aside() as reasons:
            extra_moved, extra_copied, ok = self.closure({top: ""}, report=True)
        if not ok:
            return reasons[0].message if reasons else "what it needs cannot be shipped"
        for needed in sorted(extra_moved - moved):
            statement = self.module.body[needed]
            identity = [h for h in hazards([statement], context.index) if h.kind == "identity"]
            if identity:
                return f"{context.describe(needed)} reads `{identity[0].name}`"
            if needed == top and isinstance(statement, cst.FunctionDef):
                registrars = {
                    definition.name.value
                    for r in context.registrars()
                    if isinstance(definition := self.module.body[r], cst.FunctionDef)
                }
                for decorator in statement.decorators:
                    code = self.module.code_for_node(decorator.decorator)
                    if not _pure_decorator(code) and code.split("(", 1)[0] not in registrars:
                        return "its decorator may act when the module is imported"
            if not isinstance(statement, cst.FunctionDef | cst.ClassDef) and not (
                _constant_definition(statement, self.module)
            ):
                return (
                    f"it needs the global set at {context.where(statement)} by code that "
                    "workers would run again"
                )
        problems = write_problems(context, moved | extra_moved) - baseline
        if problems:
            return min(problems, key=lambda d: (d.line, d.column)).message
        return extra_moved, extra_copied


def is_path_setup(statement: cst.CSTNode, module: cst.Module) -> bool:
    """A statement that only adds to the module search path: ``sys.path.insert(0, folder)``,
    alone or in an ``if`` (``if folder not in sys.path:``) with no ``else``."""
    if isinstance(statement, cst.If):
        body = statement.body.body
        return (
            statement.orelse is None
            and "__name__" not in module.code_for_node(statement.test)
            and all(is_path_setup(child, module) for child in body)
        )
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    return all(
        isinstance(small, cst.Expr)
        and isinstance(small.value, cst.Call)
        and module.code_for_node(small.value.func).replace(" ", "") in PATH_CALLS
        for small in statement.body
    )


def _only_definitions(node: cst.CSTNode) -> bool:
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


def _pure_decorator(code: str) -> bool:
    return code.split("(", 1)[0].strip() in PURE_DECORATORS


def _constant_definition(statement: cst.CSTNode, module: cst.Module) -> bool:
    """A module-level definition whose value is the same wherever it is evaluated: literals,
    names, operators and containers, and calls of a few constant builders; no access to
    ``sys`` or ``os`` (argv and the environment differ in a worker)."""
    for node in walk(statement):
        if isinstance(node, cst.Call):
            if module.code_for_node(node.func).strip() not in CONSTANT_CALLS:
                return False
        elif isinstance(node, cst.Attribute):
            base = node.value
            if isinstance(base, cst.Name) and base.value in ("sys", "os"):
                return False
        elif isinstance(node, cst.Await | cst.Yield | cst.NamedExpr):
            return False
    return True
