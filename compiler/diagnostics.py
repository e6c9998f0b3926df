"""User-facing errors: one exception hierarchy and one diagnostic format.

The CLI catches only ``ToreadorError``; anything else escaping is a bug and may show a
traceback. Every diagnostic prints as ``file:line:col: severity: message``, then the source
line and a caret under the column, the way compilers and linters do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One message about a place in a file. ``line`` and ``column`` are 1-based."""

    path: str
    line: int
    column: int
    severity: Severity
    message: str
    source_line: str = ""
    code: str = ""  # the stable code of its kind (messages.py), printed after the message

    def render(self) -> str:
        head = f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}"
        if self.code:
            head += f" [{self.code}]"
        if not self.source_line.strip():
            return head
        text = self.source_line.rstrip("\r\n").expandtabs(8)
        caret_at = len(self.source_line[: max(0, self.column - 1)].expandtabs(8))
        return f"{head}\n    {text}\n    {' ' * caret_at}^"


class ToreadorError(Exception):
    """Base of every error that is the user's to fix; printed cleanly, exit status 2."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))


class CompileError(ToreadorError):
    """The source cannot be compiled as written."""


class ModelError(ToreadorError):
    """The deployment model file is missing, malformed or inconsistent."""


class UsageError(ToreadorError):
    """The command line asks for something impossible (e.g. a pattern/target pair)."""


def error_at(
    path: str, message: str, line: int = 1, column: int = 1, source_line: str = ""
) -> Diagnostic:
    """Shorthand for an error diagnostic."""
    return Diagnostic(path, line, column, "error", message, source_line)
