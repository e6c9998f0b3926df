"""Folders the program adds to its module search path: followed like its own modules.

A script that vendors code does ``sys.path.insert(0, os.path.join(os.path.dirname(__file__),
"vendor"))`` and then ``import helper``. Main.py runs from the output folder, so the folder is
copied there under the same relative path: the same statement in Main.py and in the shared
module (which copies it before its imports) then finds it, and so do the workers, which load
the shared module from their copy of the output folder. The path is worked out from the
statement with ``ast``, never by running it; a folder the compiler cannot locate, or one
outside the program's own folder, is named in a located warning (TR406).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

PATH_CALLS = frozenset({"sys.path.insert", "sys.path.append", "sys.path.extend", "site.addsitedir"})
_STRING_FUNCTIONS = {
    "os.path.dirname": os.path.dirname,
    "os.path.abspath": os.path.abspath,
    "os.path.realpath": os.path.realpath,
    "os.path.normpath": os.path.normpath,
    "str": str,
    "os.fspath": os.fspath,
}


@dataclass(frozen=True)
class PathFolder:
    """A folder a module-level statement adds to sys.path: where it is relative to the
    program's folder (None: the compiler cannot follow it), and where the statement is."""

    line: int
    column: int
    relative: PurePath | None
    shown: str  # the folder as the warning names it


def path_folders(source: Path, text: str | bytes) -> list[PathFolder]:
    """The folders ``source``'s module-level code adds to sys.path, in order."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    here = source.resolve()
    names: dict[str, object] = {}
    found: list[PathFolder] = []
    for statement in _module_level(tree.body):
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = _value(statement.value, here, names)
            continue
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            continue
        call = statement.value
        if _dotted(call.func) not in PATH_CALLS or not call.args:
            continue
        argument = call.args[-1] if _dotted(call.func) == "sys.path.insert" else call.args[0]
        values = (
            [_value(e, here, names) for e in argument.elts]
            if isinstance(argument, ast.List | ast.Tuple)
            else [_value(argument, here, names)]
        )
        for value in values:
            found.append(_folder(statement, value, here.parent, ast.unparse(argument)))
    return found


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Module-level statements, with those of plain ``if`` blocks (not the main guard)."""
    statements: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.If) and "__name__" not in ast.unparse(statement.test):
            statements += _module_level(statement.body)
        else:
            statements.append(statement)
    return statements


def _folder(statement: ast.stmt, value: object, folder: Path, code: str) -> PathFolder:
    line, column = statement.lineno, statement.col_offset + 1
    if not isinstance(value, str | PurePath):
        return PathFolder(line, column, None, code)
    path = Path(value)
    if not path.is_absolute():  # relative to wherever the program is started from
        return PathFolder(line, column, None, f"{code} (relative to the working directory)")
    try:
        relative = path.resolve().relative_to(folder)
    except ValueError:
        return PathFolder(line, column, None, str(path))
    if not path.is_dir():
        return PathFolder(line, column, None, f"{path} (not a folder here)")
    return PathFolder(line, column, relative, str(relative))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _value(node: ast.expr, source: Path, names: dict[str, object]) -> object:
    """What a path expression evaluates to, for the few forms scripts use to name a folder
    beside them; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return str(source) if node.id == "__file__" else names.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = _value(node.value, source, names)
        return inner.parent if isinstance(inner, PurePath) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = _value(node.left, source, names), _value(node.right, source, names)
        if isinstance(left, PurePath) and isinstance(right, str | PurePath):
            return left / right
        return None
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    function = _dotted(node.func)
    values = [_value(a, source, names) for a in node.args]
    arguments = [a for a in values if isinstance(a, str | PurePath)]
    if len(arguments) != len(values):
        return None
    if function in ("Path", "pathlib.Path") and len(arguments) >= 1:
        return Path(*arguments)
    if function == "os.path.join" and arguments:
        return os.path.join(*arguments)
    if function in _STRING_FUNCTIONS and len(arguments) == 1:
        return _STRING_FUNCTIONS[function](arguments[0])  # type: ignore[operator]
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute"):
        inner = _value(node.func.value, source, names)
        return Path(inner).resolve() if isinstance(inner, PurePath) and not arguments else None
    return None
