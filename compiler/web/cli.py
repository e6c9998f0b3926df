"""`toreador-compile serve`: the web compiler on 127.0.0.1 by default."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

import typer

from .sandbox import Limits

serve_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
MEMORY = re.compile(r"^([1-9][0-9]*)([mg])$", re.IGNORECASE)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@serve_app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allow_run: Annotated[
        bool,
        typer.Option(
            "--allow-run", help="Let the page run pasted code (subprocess, time and memory limits)."
        ),
    ] = False,
    run_seconds: Annotated[float, typer.Option(help="With --allow-run: seconds per run.")] = 10.0,
    run_memory: Annotated[
        str, typer.Option(help="With --allow-run: memory per run, like 512m or 1g.")
    ] = "1g",
) -> None:
    """Serve the web compiler: paste a program, pick pattern and platform, see the files."""
    import uvicorn

    from .app import Settings, create_app

    found = MEMORY.match(run_memory)
    if found is None:
        typer.echo(
            f"toreador-compile serve: error: --run-memory {run_memory!r}: use 512m or 2g", err=True
        )
        raise typer.Exit(2)
    memory = int(found[1]) * 1024 ** (2 if found[2].lower() == "m" else 3)
    if allow_run and not _loopback(host):
        typer.echo(
            "toreador-compile serve: error: --allow-run only on a loopback address "
            f"(not {host}): it runs whatever is pasted",
            err=True,
        )
        raise typer.Exit(2)
    if run_seconds <= 0:
        typer.echo("toreador-compile serve: error: --run-seconds must be positive", err=True)
        raise typer.Exit(2)
    settings = Settings(
        allow_run=allow_run, limits=Limits(seconds=run_seconds, memory_bytes=memory)
    )
    mode = "runs allowed" if allow_run else "compile only"
    typer.echo(f"toreador: web compiler on http://{host}:{port}/ ({mode})", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
