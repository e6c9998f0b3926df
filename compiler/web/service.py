"""What the web compiler does with a request, as plain functions over the compile pipeline:
compile a pasted program into the files toreador-compile writes, highlight them, zip them,
and run the local-target program beside its sequential reference."""

from __future__ import annotations

import difflib
import functools
import io
import json
import re
import shlex
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from ..deploy_model import load_model
from ..diagnostics import Diagnostic, ToreadorError
from ..pipeline import compile_source, write_output
from ..registry import ALL_PATTERNS, TARGETS
from ..source import read_source
from ..verify import RunResult, Verdict
from .sandbox import Limits, Sandbox, SandboxResult, run_limited

PATTERN_CHOICES = ("auto", *ALL_PATTERNS)
TARGET_CHOICES = tuple(TARGETS)
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\.py$")
MAX_ARGUMENTS = 32
MAX_ARGUMENT_CHARS = 4096  # one argument; a command line of this machine allows 128 KiB


class RequestError(ValueError):
    """A request that cannot be served as asked (bad field, unknown choice): HTTP 400."""


@dataclass(frozen=True)
class CompileRequest:
    source: str
    filename: str
    pattern: str
    target: str
    model: str  # the deployment model's TOML text; "" for the defaults


@dataclass(frozen=True)
class CompiledFiles:
    """The generated folder as the page shows it, or the diagnostics that stopped it."""

    folder_name: str
    files: dict[str, str]  # relative path -> text
    diagnostics: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def parse_request(payload: Any) -> CompileRequest:
    """Check the JSON body's fields; the file name is kept only when it is a plain module
    name (it names the shared module and the zip's folder)."""
    if not isinstance(payload, dict):
        raise RequestError("the body must be a JSON object")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        raise RequestError("'source' must be the program's text")
    filename = payload.get("filename") or "program.py"
    if not isinstance(filename, str):
        raise RequestError("'filename' must be a string")
    filename = PurePosixPath(filename.replace("\\", "/")).name
    if not SAFE_NAME.match(filename):
        filename = "program.py"
    pattern = payload.get("pattern", "auto")
    if pattern not in PATTERN_CHOICES:
        raise RequestError(f"'pattern' must be one of {', '.join(PATTERN_CHOICES)}")
    target = payload.get("target", "local")
    if target not in TARGET_CHOICES:
        raise RequestError(f"'target' must be one of {', '.join(TARGET_CHOICES)}")
    model = payload.get("model", "") or ""
    if not isinstance(model, str):
        raise RequestError("'model' must be TOML text")
    _unicode_text("source", source)
    _unicode_text("model", model)
    return CompileRequest(source, filename, pattern, target, model)


def _unicode_text(field: str, text: str) -> None:
    """JSON may carry a lone surrogate (``"\\ud800"``), which no file can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise RequestError(
            f"'{field}' holds {text[error.start]!r} at line {line}, a lone surrogate: "
            "not Unicode text"
        ) from None


def compile_files(request: CompileRequest) -> CompiledFiles:
    """Compile in a temporary folder exactly as toreador-compile does, and read it back."""
    folder_name = f"{request.filename[:-3]}-{request.target}"
    with tempfile.TemporaryDirectory(prefix="toreador-web-") as temporary:
        work = Path(temporary)
        path = work / request.filename
        path.write_text(request.source, encoding="utf-8")
        try:
            model = None
            if request.model.strip():
                model_path = work / "deploy.toml"
                model_path.write_text(request.model, encoding="utf-8")
                model = model_path
            compiled = compile_source(
                read_source(path, request.filename),
                request.pattern,
                request.target,
                load_model(model, "deploy.toml"),
            )
            out = work / "out"
            write_output(compiled, out)
        except ToreadorError as error:
            return CompiledFiles(folder_name, {}, tuple(error.diagnostics), ())
        files = {
            file.relative_to(out).as_posix(): file.read_text(encoding="utf-8", errors="replace")
            for file in sorted(out.rglob("*"))
            if file.is_file() and "__pycache__" not in file.parts
        }
        return CompiledFiles(folder_name, files, (), tuple(compiled.warnings))


@functools.lru_cache(maxsize=128)
def highlighted(name: str, text: str, lines: tuple[int, ...] = ()) -> str:
    """The file as highlighted HTML (Pygments); ``lines`` are marked (an error's line).
    Kept by content: most of a compile's files (the runtime package) are the same every
    time, and highlighting them was a third of a compile's time."""
    try:
        lexer = get_lexer_for_filename(PurePosixPath(name).name, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    formatter = HtmlFormatter(linenos="table", hl_lines=list(lines), cssclass="code")
    return str(highlight(text, lexer, formatter))


def stylesheet() -> str:
    formatter: Any = HtmlFormatter(cssclass="code")  # get_style_defs is untyped in the stubs
    return str(formatter.get_style_defs(".code"))


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "file": diagnostic.path,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "code": diagnostic.code,  # stable (compiler/messages.py); "" for model/usage errors
        "text": diagnostic.render(),
    }


def compile_response(request: CompileRequest) -> dict[str, Any]:
    """The page's view of a compile: files with highlighting and the manifest, or the errors
    with the source highlighted at their lines."""
    compiled = compile_files(request)
    answer: dict[str, Any] = {
        "ok": compiled.ok,
        "folder": compiled.folder_name,
        "diagnostics": [diagnostic_json(d) for d in compiled.diagnostics],
        "warnings": [diagnostic_json(d) for d in compiled.warnings],
    }
    if not compiled.ok:
        lines = tuple(d.line for d in compiled.diagnostics if d.path == request.filename)
        answer["source_html"] = highlighted(request.filename, request.source, lines)
        return answer
    answer["files"] = [
        {"name": name, "text": text, "html": highlighted(name, text)}
        for name, text in compiled.files.items()
    ]
    answer["manifest"] = json.loads(compiled.files["manifest.json"])
    return answer


def suggest_response(request: CompileRequest) -> dict[str, Any]:
    """``toreador-compile suggest`` on the pasted program: the diff (highlighted), every
    candidate's verdict, and the annotated program the page can take as its source."""
    from ..source import parse_source
    from ..suggest.verdicts import suggest

    with tempfile.TemporaryDirectory(prefix="toreador-web-") as temporary:
        path = Path(temporary) / request.filename
        path.write_text(request.source, encoding="utf-8")
        try:
            source = read_source(path, request.filename)
            suggestion = suggest(source, parse_source(source))
        except ToreadorError as error:
            return {"ok": False, "diagnostics": [diagnostic_json(d) for d in error.diagnostics]}
    diff = "".join(
        difflib.unified_diff(
            request.source.splitlines(keepends=True),
            suggestion.text.splitlines(keepends=True),
            fromfile=request.filename,
            tofile=request.filename,
        )
    )
    return {
        "ok": True,
        "changed": suggestion.changed,
        "diff": diff,
        "diff_html": highlighted("suggestion.diff", diff) if diff else "",
        "annotated": suggestion.text,
        "verdicts": [verdict.json() for verdict in suggestion.verdicts],
    }


def safe_member(folder: str, name: str) -> str:
    """A zip member name inside ``folder``: no absolute path, no '..', no drive."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or ":" in name or not path.parts:
        raise RequestError(f"refusing a file name that leaves the folder: {name!r}")
    return str(PurePosixPath(folder) / path)


def zip_bytes(compiled: CompiledFiles) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in compiled.files.items():
            info = zipfile.ZipInfo(safe_member(compiled.folder_name, name))
            executable = name.endswith(".sh")
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()


def parse_arguments(payload: Any) -> list[str]:
    arguments = payload.get("args", []) if isinstance(payload, dict) else []
    if isinstance(arguments, str):
        try:
            arguments = shlex.split(arguments)
        except ValueError as error:
            raise RequestError(f"'args': {error}") from None
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise RequestError("'args' must be a list of strings or a command-line string")
    if len(arguments) > MAX_ARGUMENTS:
        raise RequestError(f"'args': at most {MAX_ARGUMENTS} arguments")
    for number, argument in enumerate(arguments, 1):
        if "\0" in argument:
            raise RequestError(f"'args': argument {number} holds a NUL byte")
        if len(argument) > MAX_ARGUMENT_CHARS:
            raise RequestError(
                f"'args': argument {number} is {len(argument)} characters long, over "
                f"{MAX_ARGUMENT_CHARS}"
            )
        _unicode_text("args", argument)
    return arguments


def result_json(result: SandboxResult) -> dict[str, Any]:
    return {
        "stdout": result.stdout,
        "stderr": result.stderr,
        "returncode": result.returncode,
        "seconds": round(result.seconds, 3),
        "timed_out": result.timed_out,
        "truncated": result.truncated,
        "verdict": result.verdict,
    }


def local_request(request: CompileRequest) -> CompileRequest:
    """What a run compiles: the local target (whatever target the page shows: the other
    engines are not run here) with its defaults."""
    return CompileRequest(request.source, request.filename, request.pattern, "local", "")


def run_response(
    request: CompileRequest,
    compiled: CompiledFiles,
    arguments: list[str],
    limits: Limits,
    sandbox: Sandbox,
    slot: int,
) -> dict[str, Any]:
    """Run ``compiled`` (``request`` compiled for ``local_request``) beside the sequential
    reference (the verify mode), each in its own sandbox under the limits, as run slot
    ``slot``."""
    if not compiled.ok:
        return {"ok": False, "diagnostics": [diagnostic_json(d) for d in compiled.diagnostics]}
    with tempfile.TemporaryDirectory(prefix="toreador-run-") as temporary:
        work = Path(temporary)
        (work / request.filename).write_text(request.source, encoding="utf-8")
        out = work / compiled.folder_name
        for name, text in compiled.files.items():
            target = out / safe_member("", name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        reference = run_limited([request.filename, *arguments], work, limits, sandbox, slot)
        main = f"{compiled.folder_name}/Main.py"
        generated = run_limited([main, *arguments], work, limits, sandbox, slot)
    verdict = Verdict(
        RunResult(reference.stdout, reference.stderr, reference.returncode),
        RunResult(generated.stdout, generated.stderr, generated.returncode),
    )
    return {
        "ok": True,
        "target": "local",
        "pattern": request.pattern,
        "reference": result_json(reference),
        "generated": result_json(generated),
        "equal": verdict.equal and not reference.timed_out and not generated.timed_out,
        "report": verdict.report(request.filename),
    }
