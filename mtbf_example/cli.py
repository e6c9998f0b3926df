"""`python -m mtbf_example`: generate, analyse, chart, serve. Bad input: one line, exit 2."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from .errors import MtbfError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="MTBF analysis of solar + battery homes.",
)

Start = Annotated[str | None, typer.Option(help="Period start, ISO-8601 (default: first minute).")]
End = Annotated[str | None, typer.Option(help="Period end, ISO-8601 (default: last minute).")]
Gateways = Annotated[
    list[str] | None, typer.Option("--gateway", help="Only this gateway (repeat).")
]
Api = Annotated[str | None, typer.Option(help="Read through the REST data service at this URL.")]
Zone = Annotated[str, typer.Option(help="Time zone whose noon the solar rule checks.")]


def _fail(error: Exception) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(2)


@app.command()
def generate(
    out: Annotated[
        Path,
        typer.Argument(
            help="A folder (a data set partitioned by gateway), a .csv or a .parquet file."
        ),
    ],
    homes: Annotated[int, typer.Option(min=1, help="Number of gateways.")] = 10,
    days: Annotated[int, typer.Option(min=1, help="Days of minute readings.")] = 7,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    start: Annotated[str, typer.Option(help="First day (UTC).")] = "2017-06-01",
    truth: Annotated[Path | None, typer.Option(help="Write the injected failures here.")] = None,
    processes: Annotated[
        int,
        typer.Option(
            min=0, help="Processes writing a data set's homes at once (0: the machine's cores)."
        ),
    ] = 0,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="dataset, parquet, csv or csv-folder (default: from OUT's suffix; "
            "no suffix: dataset).",
        ),
    ] = None,
) -> None:
    """Generate synthetic homes with failures injected at known minutes, a home at a time."""
    from .generate import format_for, truth_json
    from .generate import generate as make

    try:
        kind = format_for(out, format)
    except ValueError as error:
        raise _fail(error) from None
    truths = {}
    try:
        with _progress(f"generating {homes} homes x {days} days", homes) as advance:
            workers = processes or len(os.sched_getaffinity(0))
            for gateway, home_truth in make(
                out, homes, days, seed, start, kind=kind, processes=workers
            ):
                truths[gateway] = home_truth
                advance(1)
    except MtbfError as error:
        raise _fail(error) from None
    if truth is not None:
        truth.write_text(truth_json(truths), encoding="utf-8")
    typer.echo(f"wrote {homes * days * 1440} readings of {homes} gateways to {out}", err=True)


@contextmanager
def _progress(title: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (stdout stays the report's), gone when done; nothing when
    stderr is not a terminal (a log file gets no bar remnants)."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task(title, total=total)
        yield lambda done: progress.advance(task, done)


@app.command()
def analyse(
    data: Annotated[Path | None, typer.Argument(help="CSV/Parquet file or folder.")] = None,
    start: Start = None,
    end: End = None,
    gateway: Gateways = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report.")] = None,
    verbose: Annotated[bool, typer.Option(help="Log each failure and the arithmetic.")] = False,
    api: Api = None,
    post: Annotated[bool, typer.Option(help="With --api: POST the JSON report back.")] = False,
    timezone: Zone = "UTC",
) -> None:
    """Print the MTBF report per gateway (sorted); optionally write the JSON report."""
    from .pipeline import results_for
    from .report import json_report, text_report, write_json

    try:
        with _progress("analysing", None) as advance:
            results, period = results_for(
                data, api, start, end, gateway, timezone, verbose, advance
            )
        sys.stdout.write(text_report(results, period, verbose))
        if json_out is not None:
            write_json(results, json_out)
        if post and api is not None:
            from .service import post_results

            number = post_results(api, json_report(results))
            typer.echo(f"posted the report to {api} as result {number}", err=True)
    except (MtbfError, OSError) as error:
        raise _fail(error) from None


@app.command()
def chart(
    data: Annotated[Path | None, typer.Argument(help="CSV/Parquet file or folder.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file.")] = Path("mtbf.png"),
    start: Start = None,
    end: End = None,
    gateway: Gateways = None,
    api: Api = None,
    timezone: Zone = "UTC",
) -> None:
    """Draw MTBF and failure counts per installation as a PNG, the best one marked."""
    from .chart import write_chart
    from .pipeline import results_for

    try:
        results, _ = results_for(data, api, start, end, gateway, timezone)
        summary = write_chart(results, out)
    except (MtbfError, OSError) as error:
        raise _fail(error) from None
    typer.echo(
        json.dumps(
            {
                "chart": str(summary.path),
                "gateways": list(summary.gateways),
                "bar_groups": summary.bar_groups,
                "best": summary.best,
            }
        )
    )


@app.command()
def serve(
    data: Annotated[Path, typer.Argument(help="CSV/Parquet file or folder to serve.")],
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8765,
    token: Annotated[
        str,
        typer.Option(
            help="The token POST /api/results needs (Authorization: Bearer TOKEN); else "
            "MTBF_SERVICE_TOKEN. Required beyond loopback."
        ),
    ] = "",
) -> None:
    """Serve the readings over a small REST API (gateways, sensors, readings, results)."""
    from .service import serve as run

    try:
        run(data, host, port, token)
    except (MtbfError, OSError) as error:
        raise _fail(error) from None


@app.command()
def broker(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 9092,
) -> None:
    """Run a Kafka-compatible broker (tansu, in memory) on 127.0.0.1 until interrupted."""
    from .broker import running_broker

    try:
        with running_broker(port) as address:
            typer.echo(f"Kafka-compatible broker on {address} (Ctrl-C stops it)", err=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    except MtbfError as error:
        raise _fail(error) from None


@app.command()
def publish(
    data: Annotated[Path, typer.Argument(help="Data set, CSV/Parquet file or folder.")],
    broker: Annotated[str, typer.Option(help="Kafka bootstrap server, HOST:PORT.")],
    speed: Annotated[
        float | None,
        typer.Option(min=0.001, help="Replay at this many times real time (default: at once)."),
    ] = None,
    start: Start = None,
    end: End = None,
    gateway: Gateways = None,
) -> None:
    """Replay the readings into one Kafka topic per gateway (mtbf.GATEWAY), one message per
    reading, keyed and ordered by time."""
    from .publish import publish as replay

    try:
        with _progress("publishing readings", None) as advance:
            sent = replay(data, broker, speed, gateway, start, end, advance)
    except MtbfError as error:
        raise _fail(error) from None
    typer.echo(f"published {sum(sent.values())} readings to {len(sent)} topics", err=True)


def main() -> None:
    app()
