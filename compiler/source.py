"""Reading and parsing the user's source, with syntax errors turned into diagnostics."""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .diagnostics import CompileError, Diagnostic
from .messages import (
    CannotDecode,
    CannotParse,
    CannotRead,
    InvalidSyntax,
    Message,
    ProgramTooLarge,
    UnusableFileName,
)

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The compiler's tree walks (libcst's scopes and positions) take about 30 s and 900 MB a
# megabyte of source where CPython takes a fraction of a second: past this size a compile
# is refused at once instead of running for minutes (the program's own modules, which
# are copied and not parsed, are not counted)
MAX_SOURCE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """The program being compiled, as read once from disk."""

    path: Path
    display_name: str
    text: str
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def report(self, message: Message, line: int, column: int) -> Diagnostic:
        """``message`` about this file, at 1-based ``line`` and ``column``."""
        return message.at(self.display_name, line, column, self.line(line))


def read_source(path: Path, display_name: str | None = None) -> SourceFile:
    """Read a Python file honouring its coding cookie; unreadable files are user errors."""
    shown = display_name or str(path)
    if CONTROL.search(path.name):
        # it would end a comment in the generated files, and in a shell script start a line
        raise CompileError([UnusableFileName(repr(path.name)).at(shown.replace("\n", "?"))])
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CompileError([CannotRead(str(error.strerror)).at(shown)]) from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise CompileError([ProgramTooLarge(len(raw), MAX_SOURCE_BYTES).at(shown)])
    return source_from_bytes(raw, path, shown)


def source_from_bytes(raw: bytes, path: Path, shown: str) -> SourceFile:
    """Decode source bytes the way Python would (coding cookie, BOM, else UTF-8); a byte
    that does not decode is reported at its line and column."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:  # a cookie naming no codec, or a second BOM-less cookie
        raise CompileError([CannotDecode(str(error)).at(shown, 1, 1)]) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        reason = f"{error.reason}: byte {raw[error.start]:#04x} is not {encoding}"
        shown_line = raw.split(b"\n")[line - 1].decode(encoding, "replace").rstrip("\r")
        raise CompileError([CannotDecode(reason).at(shown, line, column, shown_line)]) from None
    except (LookupError, UnicodeError) as error:  # a codec that decodes nothing ('undefined')
        reason = f"the coding cookie names {encoding!r}, which cannot decode it: {error}"
        raise CompileError([CannotDecode(reason).at(shown, 1, 1)]) from None
    text = text.removeprefix("\ufeff")
    return SourceFile(path, shown, text, hashlib.sha256(raw).hexdigest())


def _place(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def parse_source(source: SourceFile) -> cst.Module:
    """Parse with CPython first (its messages are the ones users know), then with libcst."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            ast.parse(source.text, filename=source.display_name)
    except SyntaxError as error:
        line, column = error.lineno or 1, max(1, error.offset or 1)
        if "\0" in source.text:  # CPython places a NUL byte at 1:1
            line, column = _place(source.text, source.text.index("\0"))
        reason = error.msg or "CPython's parser gave no reason"
        raise CompileError([source.report(InvalidSyntax(reason), line, column)]) from None
    except (ValueError, MemoryError, RecursionError) as error:  # e.g. deep nesting
        reason = str(error) or type(error).__name__
        raise CompileError([CannotParse(reason).at(source.display_name)]) from None
    try:
        return cst.parse_module(source.text)
    except cst.ParserSyntaxError as error:
        refused = InvalidSyntax(error.message, parser="libcst")
        column = error.raw_column + 1
        raise CompileError([source.report(refused, error.raw_line, column)]) from None
    except RecursionError:
        message = CannotParse("the program nests too deeply for libcst")
        raise CompileError([message.at(source.display_name)]) from None
