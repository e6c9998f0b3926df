"""`toreador-compile suggest PROG.py`: the diff that annotates a sequential program, or
(``--json``) every candidate's verdict and reason; ``--write`` saves the annotated program."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated

import typer

from ..diagnostics import ToreadorError
from ..source import parse_source, read_source
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
) -> None:
    """Propose the primitives for a sequential program: a unified diff on stdout."""
    try:
        source = read_source(program)
        suggestion = suggest(source, parse_source(source))
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
