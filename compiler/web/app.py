"""The Starlette application of the web compiler: the page, the JSON API, the limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toreador import __version__

from .cgroups import remove_groups
from .compiles import COMPILE_SECONDS, CompilePool, CompileTimeout
from .guard import RequestGuard, content_security_policy, loopback_hosts
from .runs import QueueFull, RunQueue
from .sandbox import Limits, Sandbox
from .service import (
    PATTERN_CHOICES,
    TARGET_CHOICES,
    RequestError,
    compile_files,
    compile_response,
    local_request,
    parse_arguments,
    parse_request,
    run_response,
    stylesheet,
    suggest_response,
    zip_bytes,
)

MAX_BODY_BYTES = 512 * 1024  # a pasted program and a model; larger bodies get 413


NO_SANDBOX = Sandbox(None)


@dataclass(frozen=True)
class Settings:
    """``allow_run``: the only switch that lets code run, each run in ``sandbox`` (the CLI
    refuses to run without one unless told --unsafe-no-sandbox), ``run_slots`` at once.
    ``allowed_hosts``: the ``Host`` values answered (``host:port``; see ``guard``)."""

    allow_run: bool = False
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = MAX_BODY_BYTES
    sandbox: Sandbox = NO_SANDBOX
    run_slots: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    queue_capacity: int = 100
    compile_processes: int = 0  # 0: compile in the server's threads (one core, by the GIL)
    allowed_hosts: tuple[str, ...] = loopback_hosts(8000)


class BodyLimit:
    """ASGI middleware: a body over the limit is refused with 413 before it is read whole
    (by its Content-Length, or counted as it streams in)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            if refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": f"request body over {self.limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _page_template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("page.html.j2")


def create_app(settings: Settings | None = None) -> Starlette:
    """The application; ``settings.allow_run`` is the only switch that lets code run."""
    settings = settings or Settings()
    page = _page_template().render(
        version=__version__,
        patterns=PATTERN_CHOICES,
        targets=TARGET_CHOICES,
        allow_run=settings.allow_run,
        seconds=settings.limits.seconds,
        memory_mb=settings.limits.memory_bytes // (1024 * 1024),
        sandbox=settings.sandbox.description,
        sandboxed=settings.sandbox.bwrap is not None,
        code_css=stylesheet(),
    )
    # a run is two programs, each stopped at the time limit, and their compile before them
    longest_run = 2 * settings.limits.seconds + COMPILE_SECONDS
    queue = (
        RunQueue(settings.run_slots, settings.queue_capacity, longest_run=longest_run)
        if settings.allow_run
        else None
    )
    compilers = CompilePool(settings.compile_processes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        compilers.close()
        if queue is not None:
            queue.close()
        remove_groups(settings.sandbox.groups or ())

    async def body(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise RequestError("the body must be JSON") from None
        except RecursionError:
            raise RequestError("the body's JSON is nested too deeply") from None

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def api_compile(request: Request) -> JSONResponse:
        try:
            compile_request = parse_request(await body(request))
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        try:
            answer = await compilers.call(compile_response, compile_request)
        except CompileTimeout as error:
            return JSONResponse({"ok": False, "error": str(error)}, status_code=422)
        return JSONResponse(answer, status_code=200 if answer["ok"] else 422)

    async def api_suggest(request: Request) -> JSONResponse:
        try:
            compile_request = parse_request(await body(request))
            answer = await compilers.call(suggest_response, compile_request)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except CompileTimeout as error:
            return JSONResponse({"ok": False, "error": str(error)}, status_code=422)
        return JSONResponse(answer, status_code=200 if answer["ok"] else 422)

    async def api_zip(request: Request) -> Response:
        try:
            compile_request = parse_request(await body(request))
            compiled = await compilers.call(compile_files, compile_request)
            if not compiled.ok:
                errors = [d.render() for d in compiled.diagnostics]
                return JSONResponse({"error": "compile failed", "diagnostics": errors}, 422)
            data = zip_bytes(compiled)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        except CompileTimeout as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        disposition = f'attachment; filename="{compiled.folder_name}.zip"'
        return Response(
            data, media_type="application/zip", headers={"content-disposition": disposition}
        )

    async def queued_run(request: Request) -> tuple[RunQueue, str] | JSONResponse:
        """Queue the run a request asks for: the queue and the run's id, or the refusal to
        answer instead."""
        if queue is None:
            refusal = {"error": "running code is off on this server (start it with --allow-run)"}
            return JSONResponse(refusal, status_code=403)
        try:
            payload = await body(request)
            compile_request = parse_request(payload)
            arguments = parse_arguments(payload)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)

        def job(slot: int) -> dict[str, Any]:
            try:
                compiled = compilers.run(compile_files, local_request(compile_request))
            except CompileTimeout as error:
                return {"ok": False, "error": str(error)}
            return run_response(
                compile_request, compiled, arguments, settings.limits, settings.sandbox, slot
            )

        try:
            return queue, queue.submit(job)
        except QueueFull as error:
            return JSONResponse({"error": str(error)}, status_code=429)

    async def api_runs(request: Request) -> JSONResponse:
        """Queue a run; answered at once with its id and place in the queue (the page then
        asks ``GET /api/runs/{id}`` until it is done)."""
        queued = await queued_run(request)
        if isinstance(queued, JSONResponse):
            return queued
        runs, key = queued
        return JSONResponse(runs.status(key), status_code=202)

    async def api_run_status(request: Request) -> JSONResponse:
        found = queue.status(request.path_params["key"]) if queue is not None else None
        if found is None:
            return JSONResponse({"error": "no such run (finished runs are kept 10 minutes)"}, 404)
        return JSONResponse(found)

    async def api_run(request: Request) -> JSONResponse:
        """Queue a run and answer when it is done (for scripts; the page uses /api/runs)."""
        queued = await queued_run(request)
        if isinstance(queued, JSONResponse):
            return queued
        runs, key = queued
        while (found := runs.status(key)) is not None and found["state"] != "done":
            await asyncio.sleep(0.05)  # no thread waits: compiles keep every thread
        answer = found["result"] if found is not None else {"ok": False, "error": "run lost"}
        return JSONResponse(answer, status_code=200 if answer["ok"] else 422)

    async def api_info(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "version": __version__,
                "patterns": list(PATTERN_CHOICES),
                "targets": list(TARGET_CHOICES),
                "run": settings.allow_run,
                "sandbox": settings.sandbox.description if settings.allow_run else None,
                "run_slots": settings.run_slots if settings.allow_run else 0,
                "limits": {
                    "seconds": settings.limits.seconds,
                    "memory_bytes": settings.limits.memory_bytes,
                    "output_bytes": settings.limits.output_bytes,
                    "processes": settings.limits.processes,
                    "folder_bytes": settings.limits.folder_bytes,
                    "body_bytes": settings.max_body_bytes,
                },
            }
        )

    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        """A compiler bug: said as such, in JSON the page shows; the traceback goes to the
        server's stderr, where its operator can report it."""
        traceback.print_exception(error, file=sys.stderr)
        return JSONResponse(
            {"error": f"toreador failed on this request, which is a bug in toreador: {error!r}"},
            status_code=500,
        )

    app = Starlette(
        lifespan=lifespan,
        exception_handlers={Exception: internal_error},
        routes=[
            Route("/", index),
            Route("/api/info", api_info),
            Route("/api/compile", api_compile, methods=["POST"]),
            Route("/api/zip", api_zip, methods=["POST"]),
            Route("/api/suggest", api_suggest, methods=["POST"]),
            Route("/api/run", api_run, methods=["POST"]),
            Route("/api/runs", api_runs, methods=["POST"]),
            Route("/api/runs/{key}", api_run_status),
        ],
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # added last, so first to see a request: nothing else runs for a foreign host or origin
    app.add_middleware(
        RequestGuard, hosts=settings.allowed_hosts, policy=content_security_policy(page)
    )
    return app
