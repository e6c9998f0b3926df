"""`toreador-compile suggest PROG.py`: the diff that annotates a sequential program, or
(``--json``) every candidate's verdict and reason; ``--write`` saves the annotated program."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ..deploy_model import DeployModel
from ..diagnostics import ToreadorError
from ..pipeline import compile_source, write_output
from ..source import SourceFile, parse_source, read_source
from ..verify import verify as verify_runs
from .profile import profiled
from .verdicts import suggest

suggest_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@suggest_app.command()
def suggest_command(
    program: Annotated[Path, typer.Argument(help="The sequential (un-annotated) program.")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Every loop, comprehension and map() examined, as JSON."),
    ] = False,
    write: Annotated[
        Path | None, typer.Option(help="Write the annotated program to this file.")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            help="Compile the annotated program for local, run it and the original with the "
            "arguments after --, and compare what they print (exit 1 when they differ)."
        ),
    ] = False,
    profile: Annotated[
        bool,
        typer.Option(
            help="Run the program once (arguments after --), measure each suggested region, "
            "and take back those too small to pay for workers (the engine's rule)."
        ),
    ] = False,
    program_args: Annotated[
        list[str] | None, typer.Argument(help="With --verify: the program's arguments.")
    ] = None,
) -> None:
    """Propose the primitives for a sequential program: a unified diff on stdout."""
    try:
        source = read_source(program)
        module = parse_source(source)
        suggestion = suggest(source, module)
        if profile and suggestion.changed:
            suggestion = profiled(suggestion, module, program, list(program_args or []))
        if verify:
            _verify(source, suggestion.text, program, list(program_args or []))
    except ToreadorError as error:
        for diagnostic in error.diagnostics:
            typer.echo(diagnostic.render(), err=True)
        raise typer.Exit(2) from None
    if write is not None:
        write.write_text(suggestion.text, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps([v.json() for v in suggestion.verdicts], indent=2))
        return
    if not suggestion.changed:
        examined = len(suggestion.verdicts)
        typer.echo(
            f"toreador: nothing in {program} can safely run in parallel ({examined} "
            f"candidate{'s' * (examined != 1)} examined; --json says why)",
            err=True,
        )
        return
    name = program.name
    diff = difflib.unified_diff(
        source.text.splitlines(keepends=True),
        suggestion.text.splitlines(keepends=True),
        fromfile=name,
        tofile=name,
    )
    typer.echo("".join(diff), nl=False)


def _verify(source: SourceFile, text: str, program: Path, arguments: list[str]) -> None:
    """The annotated program compiled for local (as if it stood where the original does: its
    modules and its name are the original's), run beside the original: 'equal' or the diff
    on stderr, exit 1 when they differ."""
    annotated = dataclasses.replace(
        source, text=text, sha256=hashlib.sha256(text.encode()).hexdigest()
    )
    with tempfile.TemporaryDirectory(prefix="toreador-suggest-") as folder:
        out = Path(folder) / "out"
        write_output(compile_source(annotated, "auto", "local", DeployModel()), out)
        verdict = verify_runs(program, out, arguments)
    report = verdict.report(program.name)
    typer.echo(f"toreador: verify: {report}" if verdict.equal else report, err=True)
    if not verdict.equal:
        raise typer.Exit(1)
