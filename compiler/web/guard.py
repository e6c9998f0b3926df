"""Who may drive the web compiler: the checks every request passes before the application.

A page the operator opens in a browser can send requests to the server (the browser attaches
nothing secret, but the server runs code): a cross-site ``fetch`` with ``mode: "no-cors"``
and a ``text/plain`` body needs no preflight, and a DNS-rebinding page talks to the server
under its own host name. So, before any route:

- the ``Host`` header must name the address the server was started on (or a name the
  operator allowed): else 421, and a rebinding page reads nothing;
- a request that changes anything (any method but GET, HEAD and OPTIONS) must not come from
  another origin (``Origin``, and the browser's ``Sec-Fetch-Site``): else 403;
- its body must be declared ``application/json``: a browser sends that type cross-site only
  after a preflight this server never grants: else 415;

and every answer carries headers that keep the page from being framed, sniffed or made to
load anything but itself (``Content-Security-Policy`` with the hashes of its own inline
script and style).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def loopback_hosts(port: int) -> tuple[str, ...]:
    """The names a browser on this machine uses for a server on a loopback address."""
    return tuple(f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """``Host`` values the server answers: its own address and the ``--allowed-host`` names,
    each with the port (and bare on port 80, as browsers send it there)."""
    names = list(loopback_hosts(port)) if host in ("127.0.0.1", "localhost", "::1") else []
    shown = f"[{host}]" if ":" in host else host
    names.append(f"{shown}:{port}")
    for name in extra:
        names.append(name if re.search(r":\d+$", name) else f"{name}:{port}")
    if port == 80:
        names += [name.rsplit(":", 1)[0] for name in names]
    return tuple(dict.fromkeys(name.lower() for name in names))


def content_security_policy(page: str) -> str:
    """The page's policy: its own inline script and style (by hash), requests to itself."""
    hashes: dict[str, list[str]] = {"script": [], "style": []}
    for kind, body in _INLINE.findall(page):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes[kind].append(f"'sha256-{digest}'")
    scripts = " ".join(hashes["script"]) or "'none'"
    styles = " ".join(hashes["style"]) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


class RequestGuard:
    """ASGI middleware: the checks of this module's docstring, then the application."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], policy: str) -> None:
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)
        self.origins = frozenset(
            f"{scheme}://{host}" for host in self.hosts for scheme in ("http", "https")
        )
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-resource-policy", b"same-origin"),
            (b"content-security-policy", policy.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await self._refuse(send, *refusal)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), value)
        host = headers.get(b"host", b"").decode("latin-1").lower()
        if host not in self.hosts:
            return 421, (
                f"this server answers to {', '.join(sorted(self.hosts))}, not to the host "
                f"{host[:100]!r} (serve --allowed-host NAME adds a name)"
            )
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get(b"origin")
        if origin is not None and origin.decode("latin-1").lower() not in self.origins:
            return 403, "requests from another origin are refused"
        if headers.get(b"sec-fetch-site", b"same-origin") not in (b"same-origin", b"none"):
            return 403, "requests from another site are refused"
        declared = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if declared != b"application/json":
            return 415, "the body must be sent as content-type: application/json"
        return None

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *self.headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
