"""toreador-compile: wires the pipeline to the command line; user errors exit 2, cleanly."""

from __future__ import annotations

import dataclasses
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from toreador.patterns import PATTERNS

from .deploy_model import load_model
from .diagnostics import CompileError, ToreadorError
from .pipeline import compile_source, write_output
from .registry import TARGETS
from .source import read_source
from .verify import verify as run_verify

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


# The choices come from the registries: a pattern or target added there is offered here.
PatternChoice = StrEnum("PatternChoice", {name: name for name in ("auto", *PATTERNS)})  # type: ignore[misc]
TargetChoice = StrEnum("TargetChoice", {name: name for name in TARGETS})  # type: ignore[misc]


@app.command()
def compile_command(
    source: Annotated[Path, typer.Argument(help="The annotated Python program.")],
    program_args: Annotated[
        list[str] | None, typer.Argument(help="With --verify: the program's arguments (after --).")
    ] = None,
    pattern: Annotated[
        PatternChoice, typer.Option(help="Parallel pattern; auto picks the natural one per region.")
    ] = PatternChoice.auto,  # type: ignore[attr-defined]
    target: Annotated[TargetChoice, typer.Option(help="Platform to run on.")] = (
        TargetChoice.local  # type: ignore[attr-defined]
    ),
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output folder (default: <source stem>-<target>)."),
    ] = None,
    model: Annotated[Path | None, typer.Option(help="Deployment model (TOML).")] = None,
    verify: Annotated[
        bool,
        typer.Option(help="Run the source and the generated Main.py; print 'equal' or a diff."),
    ] = False,
    timeout: Annotated[float | None, typer.Option(help="With --verify: seconds per run.")] = None,
    strict: Annotated[
        bool,
        typer.Option(help="Treat warnings as errors: report them, write nothing, exit 2."),
    ] = False,
) -> None:
    """Compile an annotated sequential program into a parallel one for a target.

    `toreador-compile serve --help`: the web compiler. `toreador-compile suggest --help`:
    where a sequential program can use the primitives.
    """
    out_dir = output or Path(f"{source.stem}-{target.value}")
    try:
        deploy = load_model(model)
        compiled = compile_source(read_source(source), pattern.value, target.value, deploy)
        if strict and compiled.warnings:
            raise CompileError(
                [dataclasses.replace(w, severity="error") for w in compiled.warnings]
            )
        write_output(compiled, out_dir)
    except ToreadorError as error:
        for diagnostic in error.diagnostics:
            typer.echo(diagnostic.render(), err=True)
        raise typer.Exit(2) from None
    for warning in compiled.warnings:
        typer.echo(warning.render(), err=True)
    regions = len(compiled.plan.regions)
    typer.echo(
        f"toreador: compiled {source} ({regions} region{'s' * (regions != 1)}) "
        f"for {target.value} into {out_dir}/",
        err=True,
    )
    if verify:
        verdict = run_verify(source, out_dir, list(program_args or []), timeout)
        typer.echo(verdict.report(source.name))
        if not verdict.equal:
            raise typer.Exit(1)


def main() -> None:
    """Console-script entry point; `toreador-compile serve ...` starts the web compiler."""
    try:
        if sys.argv[1:2] == ["serve"]:
            from .web.cli import serve_app

            serve_app(sys.argv[2:], prog_name="toreador-compile serve")
            return
        if sys.argv[1:2] == ["suggest"]:
            from .suggest.cli import suggest_app

            suggest_app(sys.argv[2:], prog_name="toreador-compile suggest")
            return
        app()
    except KeyboardInterrupt:
        sys.exit(130)
