"""`toreador-compile serve`: the web compiler on 127.0.0.1 by default."""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Annotated

import typer

from .guard import allowed_hosts
from .sandbox import Limits, Sandbox, find_sandbox, with_run_groups

serve_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
MEMORY = re.compile(r"^([1-9][0-9]*)([mg])$", re.IGNORECASE)
HOST_NAME = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


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
            "--allow-run",
            help="Let the page run pasted code, each run in a bubblewrap sandbox with limits.",
        ),
    ] = False,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox",
            help="With --allow-run, on loopback only: run without a sandbox (limits only): "
            "for a machine without bubblewrap, and code you trust.",
        ),
    ] = False,
    run_seconds: Annotated[float, typer.Option(help="With --allow-run: seconds per run.")] = 10.0,
    run_memory: Annotated[
        str, typer.Option(help="With --allow-run: memory per run, like 512m or 1g.")
    ] = "1g",
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A host name (or name:port) clients use for this server, besides the "
            "address it listens on; repeat for more. Requests naming any other host are "
            "refused (a DNS-rebinding page names its own).",
        ),
    ] = None,
) -> None:
    """Serve the web compiler: paste a program, pick pattern and platform, see the files."""
    import uvicorn

    from .app import Settings, create_app

    found = MEMORY.match(run_memory)
    if found is None:
        _fail(f"--run-memory {run_memory!r}: use 512m or 2g")
        return
    memory = int(found[1]) * 1024 ** (2 if found[2].lower() == "m" else 3)
    if run_seconds <= 0:
        _fail("--run-seconds must be positive")
    limits = Limits(seconds=run_seconds, memory_bytes=memory)
    slots = len(os.sched_getaffinity(0))  # runs at once, and compile processes: the cores
    sandbox = Sandbox(None)
    if allow_run and unsafe_no_sandbox and not _loopback(host):
        _fail(f"--allow-run without a sandbox only on a loopback address (not {host})")
    if allow_run and not unsafe_no_sandbox:
        found_sandbox, why_not = find_sandbox()
        if found_sandbox is None:
            _fail(
                f"--allow-run needs a sandbox and there is none: {why_not}; "
                "--unsafe-no-sandbox runs without one, on loopback only"
            )
        sandbox = with_run_groups(found_sandbox, slots, limits) if found_sandbox else sandbox
    extra = allowed_host or []
    for name in extra:
        if not HOST_NAME.match(name):
            _fail(f"--allowed-host {name!r}: give a host name or address, with :port if needed")
    if _unspecified(host) and not extra:
        _fail(
            f"listening on {host} (every address) needs --allowed-host NAME: the name or "
            "address clients reach this server by"
        )
    settings = Settings(
        allowed_hosts=allowed_hosts(host, port, extra),
        allow_run=allow_run,
        limits=limits,
        sandbox=sandbox,
        run_slots=slots,
        compile_processes=slots,
    )
    mode = f"runs allowed, {sandbox.description}" if allow_run else "compile only"
    typer.echo(f"toreador: web compiler on http://{host}:{port}/ ({mode})", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _fail(message: str) -> None:
    typer.echo(f"toreador-compile serve: error: {message}", err=True)
    raise typer.Exit(2)
