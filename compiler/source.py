"""Reading and parsing the user's source, with syntax errors turned into diagnostics."""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from .diagnostics import CompileError, Diagnostic
from .messages import CannotDecode, CannotParse, CannotRead, InvalidSyntax, Message


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
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CompileError([CannotRead(str(error.strerror)).at(shown)]) from None
    return source_from_bytes(raw, path, shown)


def source_from_bytes(raw: bytes, path: Path, shown: str) -> SourceFile:
    """Decode source bytes the way Python would (coding cookie, BOM, else UTF-8)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise CompileError([CannotDecode(str(error)).at(shown)]) from None
    text = text.removeprefix("\ufeff")
    return SourceFile(path, shown, text, hashlib.sha256(raw).hexdigest())


def parse_source(source: SourceFile) -> cst.Module:
    """Parse with CPython first (its messages are the ones users know), then with libcst."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            ast.parse(source.text, filename=source.display_name)
    except SyntaxError as error:
        line, column = error.lineno or 1, max(1, error.offset or 1)
        raise CompileError([source.report(InvalidSyntax(error.msg), line, column)]) from None
    except (ValueError, MemoryError, RecursionError) as error:  # e.g. NUL bytes, deep nesting
        raise CompileError([CannotParse(str(error)).at(source.display_name)]) from None
    try:
        return cst.parse_module(source.text)
    except cst.ParserSyntaxError as error:
        refused = InvalidSyntax(error.message, parser="libcst")
        column = error.raw_column + 1
        raise CompileError([source.report(refused, error.raw_line, column)]) from None
    except RecursionError:
        message = CannotParse("the program nests too deeply for libcst")
        raise CompileError([message.at(source.display_name)]) from None
