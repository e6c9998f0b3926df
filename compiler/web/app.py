"""The Starlette application of the web compiler: the page, the JSON API, the limits."""

from __future__ import annotations

import json
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toreador import __version__

from .sandbox import Limits
from .service import (
    PATTERN_CHOICES,
    TARGET_CHOICES,
    RequestError,
    compile_files,
    compile_response,
    parse_arguments,
    parse_request,
    run_response,
    stylesheet,
    zip_bytes,
)

MAX_BODY_BYTES = 512 * 1024  # a pasted program and a model; larger bodies get 413


@dataclass(frozen=True)
class Settings:
    allow_run: bool = False
    limits: Limits = field(default_factory=Limits)
    max_body_bytes: int = MAX_BODY_BYTES


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
        code_css=stylesheet(),
    )
    running = threading.Semaphore(1)  # one run at a time: runs are the expensive requests

    async def body(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise RequestError("the body must be JSON") from None

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def api_compile(request: Request) -> JSONResponse:
        try:
            compile_request = parse_request(await body(request))
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        answer = await run_in_threadpool(compile_response, compile_request)
        return JSONResponse(answer, status_code=200 if answer["ok"] else 422)

    async def api_zip(request: Request) -> Response:
        try:
            compile_request = parse_request(await body(request))
            compiled = await run_in_threadpool(compile_files, compile_request)
            if not compiled.ok:
                errors = [d.render() for d in compiled.diagnostics]
                return JSONResponse({"error": "compile failed", "diagnostics": errors}, 422)
            data = zip_bytes(compiled)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        disposition = f'attachment; filename="{compiled.folder_name}.zip"'
        return Response(
            data, media_type="application/zip", headers={"content-disposition": disposition}
        )

    async def api_run(request: Request) -> JSONResponse:
        if not settings.allow_run:
            return JSONResponse(
                {"error": "running code is off on this server (start it with --allow-run)"},
                status_code=403,
            )
        try:
            payload = await body(request)
            compile_request = parse_request(payload)
            arguments = parse_arguments(payload)
        except RequestError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        if not running.acquire(blocking=False):
            return JSONResponse({"error": "another run is in progress; try again"}, 429)
        try:
            answer = await run_in_threadpool(
                run_response, compile_request, arguments, settings.limits
            )
        finally:
            running.release()
        return JSONResponse(answer, status_code=200 if answer["ok"] else 422)

    async def api_info(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "version": __version__,
                "patterns": list(PATTERN_CHOICES),
                "targets": list(TARGET_CHOICES),
                "run": settings.allow_run,
                "limits": {
                    "seconds": settings.limits.seconds,
                    "memory_bytes": settings.limits.memory_bytes,
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
        exception_handlers={Exception: internal_error},
        routes=[
            Route("/", index),
            Route("/api/info", api_info),
            Route("/api/compile", api_compile, methods=["POST"]),
            Route("/api/zip", api_zip, methods=["POST"]),
            Route("/api/run", api_run, methods=["POST"]),
        ],
    )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
