"""Every diagnostic toreador gives about a program: one class each, with a stable code.

Why classes and codes: tests, the web page and a user's scripts tell diagnostics apart by
code (``TR203``), so the wording can improve without breaking them, and each class is the
one place its wording lives (pyflakes' messages module is the model). The code is printed
after the message, as mypy prints its error codes. Families:

- TR0xx reading and parsing the source;
- TR1xx regions and kernels (analysis/kernels.py);
- TR2xx the kernels' closure: what must be shipped and cannot be (analysis/closure.py);
- TR3xx writes to globals the kernels use (analysis/writes.py);
- TR4xx warnings about what kernels use or change (analysis/warnings.py);
- TR5xx the generated folder (pipeline.py).

A code is never reused for another meaning; a retired diagnostic leaves its code unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .diagnostics import Diagnostic, Severity

PRIMITIVE_ARGUMENTS = {
    "data_parallel_region": ("distr", "func"),
    "producer_consumer": ("producer", "consumer"),
    "bag_of_task": ("datas", "funcs"),
}


@dataclass(frozen=True)
class Message:
    """One kind of diagnostic; its fields are what the wording needs."""

    code: ClassVar[str]
    severity: ClassVar[Severity] = "error"

    def text(self) -> str:
        raise NotImplementedError

    def at(self, path: str, line: int = 1, column: int = 1, source_line: str = "") -> Diagnostic:
        """This message as a diagnostic about ``path`` (1-based line and column)."""
        return Diagnostic(path, line, column, self.severity, self.text(), source_line, self.code)


# -- TR0xx: the source ---------------------------------------------------------------------
@dataclass(frozen=True)
class CannotRead(Message):
    code = "TR001"
    reason: str

    def text(self) -> str:
        return f"cannot read file: {self.reason}"


@dataclass(frozen=True)
class CannotDecode(Message):
    code = "TR002"
    reason: str

    def text(self) -> str:
        return f"cannot decode file: {self.reason}"


@dataclass(frozen=True)
class InvalidSyntax(Message):
    code = "TR003"
    reason: str
    parser: str = ""  # "libcst" when only libcst refused it

    def text(self) -> str:
        by = f" ({self.parser})" if self.parser else ""
        return f"syntax error{by}: {self.reason}"


@dataclass(frozen=True)
class CannotParse(Message):
    code = "TR004"
    reason: str

    def text(self) -> str:
        return f"cannot parse: {self.reason}"


@dataclass(frozen=True)
class UnusableFileName(Message):
    code = "TR005"
    name: str

    def text(self) -> str:
        return (
            f"the program's file name {self.name} holds a control character (a newline, a "
            "tab): the generated files and scripts name it; rename the file"
        )


@dataclass(frozen=True)
class ProgramTooLarge(Message):
    code = "TR006"
    size: int
    limit: int

    def text(self) -> str:
        return (
            f"the program is {self.size / 1024 / 1024:.1f} MB; toreador compiles a program of "
            f"up to {self.limit // 1024 // 1024} MB (move definitions into modules it imports: "
            "those are copied, not compiled)"
        )


# -- TR1xx: regions and kernels -------------------------------------------------------------
@dataclass(frozen=True)
class StarImport(Message):
    code = "TR101"

    def text(self) -> str:
        return "`from toreador import *` hides which names are primitives; import them by name"


@dataclass(frozen=True)
class IndirectArguments(Message):
    code = "TR102"
    primitive: str

    def text(self) -> str:
        data, kernel = PRIMITIVE_ARGUMENTS[self.primitive]
        return (
            f"{self.primitive} needs its {data} and {kernel} as direct arguments, so that "
            "toreador can see the kernel"
        )


@dataclass(frozen=True)
class UndefinedKernel(Message):
    code = "TR103"
    name: str

    def text(self) -> str:
        return (
            f"undefined kernel '{self.name}': no function, class or import of that name is "
            "visible here"
        )


@dataclass(frozen=True)
class KernelClosesOverLocal(Message):
    code = "TR104"
    kernel: str  # "kernel 'f'"
    kind: str  # "lambda" or "nested function"
    local: str

    def text(self) -> str:
        return (
            f"{self.kernel} is a {self.kind} that closes over local '{self.local}'; workers "
            "cannot see it: pass it as a replicated argument, e.g. "
            f"data_parallel_region(items, f, {self.local})"
        )


@dataclass(frozen=True)
class UnknownToreadorName(Message):
    code = "TR105"
    shown: str

    def text(self) -> str:
        return (
            f"`{self.shown}`: a compiled program has no toreador module (its folder imports "
            "nothing from toreador); only the primitives and PrimitiveUsageError can be "
            "used, by name"
        )


@dataclass(frozen=True)
class RegionBeforeDefinition(Message):
    code = "TR106"
    what: str  # "function 'f' (line 9)"
    kernel: str

    def text(self) -> str:
        return (
            f"this region runs before {self.what}, which its kernel {self.kernel} needs: the "
            "sequential program stops here with NameError; define it before the region runs"
        )


# -- TR2xx: the kernels' closure ------------------------------------------------------------
@dataclass(frozen=True)
class DefinedUnderMainGuard(Message):
    code = "TR201"
    needed_by: str

    def text(self) -> str:
        return (
            f'{self.needed_by}, which is defined inside `if __name__ == "__main__":`; '
            "workers never run that block: move the definition out of the guard, to module "
            "level"
        )


@dataclass(frozen=True)
class SetUnderMainGuard(Message):
    code = "TR202"
    needed_by: str

    def text(self) -> str:
        # a value, often computed from the command line: it travels with the call
        return (
            f'{self.needed_by}, which is set inside `if __name__ == "__main__":`; workers '
            "never run that block: pass the value as a replicated argument"
        )


@dataclass(frozen=True)
class CannotShip(Message):
    code = "TR203"
    needed_by: str
    why: str  # "is set by a statement that also runs code"

    def text(self) -> str:
        return (
            f"{self.needed_by}, which {self.why}; workers would not see it: pass the value "
            "as a replicated argument"
        )


# -- TR3xx: writes to globals the kernels use -----------------------------------------------
@dataclass(frozen=True)
class GlobalAssignedAgain(Message):
    code = "TR301"
    name: str
    first: str  # "line 3"

    def text(self) -> str:
        return (
            f"global '{self.name}', which kernels use, is assigned again here (first at "
            f"{self.first}); workers would only see the first value: pass it as a "
            "replicated argument"
        )


@dataclass(frozen=True)
class GlobalRebound(Message):
    code = "TR302"
    name: str
    by_shipped: bool  # the `global` statement is in a function shipped to workers

    def text(self) -> str:
        where = "a function shipped to workers" if self.by_shipped else "the program"
        return (
            f"global '{self.name}' is rebound by {where} through `global`; workers do not "
            "share globals with the main program"
        )


@dataclass(frozen=True)
class GlobalChanged(Message):
    code = "TR303"
    name: str

    def text(self) -> str:
        return (
            f"global '{self.name}', which kernels use, is changed here; workers would not "
            "see the change: pass it as a replicated argument"
        )


@dataclass(frozen=True)
class GlobalChangedByKernel(Message):
    code = "TR304"
    name: str

    def text(self) -> str:
        return (
            f"global '{self.name}' is changed in place by code that kernels run; each worker "
            "changes its own copy and the main program never sees it: return the value from "
            "the kernel and combine the results instead"
        )


# -- TR4xx: warnings about what kernels use or change --------------------------------------
@dataclass(frozen=True)
class GlobalRandomState(Message):
    code = "TR401"
    severity = "warning"
    who: str
    name: str

    def text(self) -> str:
        return (
            f"{self.who} uses the global random state (`{self.name}`): each worker draws "
            "from its own copy, so the numbers differ from the sequential run's and from run "
            "to run; give each item its own generator, e.g. random.Random(seed) or "
            "numpy.random.default_rng(seed), with the seed passed as part of the item or as "
            "a replicated argument"
        )


@dataclass(frozen=True)
class ReadsStandardInput(Message):
    code = "TR402"
    severity = "warning"
    who: str
    name: str

    def text(self) -> str:
        return (
            f"{self.who} reads standard input (`{self.name}`), which workers do not have "
            "(they meet its end at once); read it in the main program and pass what was read "
            "as items or as a replicated argument"
        )


@dataclass(frozen=True)
class ReadsModuleIdentity(Message):
    code = "TR403"
    severity = "warning"
    who: str
    name: str

    def text(self) -> str:
        return (
            f"{self.who} reads `{self.name}`, which where kernels run names the generated "
            "shared module, not the program's own (`__main__`, the source file); pass the "
            "value as a replicated argument if the kernel needs it"
        )


@dataclass(frozen=True)
class ArgumentChangedInPlace(Message):
    code = "TR404"
    severity = "warning"
    kernel: str
    argument: str

    def text(self) -> str:
        return (
            f"kernel '{self.kernel}' changes its argument '{self.argument}' in place; each "
            "worker changes its own copy, so the main program's item or replicated argument "
            "stays as it was and later items do not see the change: return what the kernel "
            "computes instead"
        )


@dataclass(frozen=True)
class NoRegion(Message):
    code = "TR405"
    severity = "warning"

    def text(self) -> str:
        return "no parallel region found: Main.py runs the program sequentially"


@dataclass(frozen=True)
class GlobalIterator(Message):
    code = "TR407"
    severity = "warning"
    who: str
    name: str

    def text(self) -> str:
        return (
            f"{self.who} takes the next value of the module-level iterator `{self.name}` "
            "(an `itertools.count`, a generator): each worker advances its own copy, so the "
            "values repeat across workers and differ from the sequential run's; number the "
            "items in the main program (`enumerate`) and pass the number with the item"
        )


@dataclass(frozen=True)
class OpenFilePassed(Message):
    code = "TR408"
    severity = "warning"
    name: str

    def text(self) -> str:
        return (
            f"the open file `{self.name}` is passed to the kernels: forked workers write "
            "through their own copies of it (lines lost or out of order), and other targets "
            "cannot send it; return what is to be written and write it in the main program"
        )


@dataclass(frozen=True)
class PathFolderNotFollowed(Message):
    code = "TR406"
    severity = "warning"
    folder: str

    def text(self) -> str:
        return (
            f"the program adds {self.folder} to sys.path, which the compiler cannot follow "
            "into the output folder (only a folder inside the program's own, named from "
            "`__file__`, is copied): Main.py and workers on other machines (docker, a "
            "cluster) need it at that path, or its modules beside the program"
        )


# -- TR5xx: the generated folder ------------------------------------------------------------
@dataclass(frozen=True)
class ModuleClash(Message):
    code = "TR501"
    names: str

    def text(self) -> str:
        return (
            f"the program's own module(s) {self.names} would clash with generated files; "
            "rename them"
        )


@dataclass(frozen=True)
class KeptDefinitionPassed(Message):
    code = "TR502"
    severity = "warning"
    kind: str  # "class" or "function"
    name: str
    reason: str
    target: str

    def text(self) -> str:
        return (
            f"{self.kind} '{self.name}' stays in Main.py ({self.reason}), and the program "
            f"passes it as a value: if it reaches a region, {self.target} workers cannot "
            "find it"
        )


def every_message() -> list[type[Message]]:
    """Every diagnostic class, for the docs' table and the test that codes are unique."""
    found: list[type[Message]] = []
    pending = list(Message.__subclasses__())
    while pending:
        kind = pending.pop(0)
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return sorted(found, key=lambda kind: kind.code)
