"""The web compiler attacked as a hostile page and a hostile client would: cross-site
requests, DNS rebinding, framing, guessing run ids. The page attacks run in headless
Chromium against a real `toreador-compile serve --allow-run --unsafe-no-sandbox` (the mode
in which a run that got through writes a file as this user); the header checks go through
Starlette's test client."""

from __future__ import annotations

import dataclasses
import functools
import html
import http.server
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from toreador.compiler.web.app import Settings, create_app
from toreador.compiler.web.compiles import CompilePool, CompileTimeout
from toreador.compiler.web.guard import allowed_hosts
from toreador.compiler.web.runs import RunQueue
from toreador.compiler.web.sandbox import Limits, Sandbox

from .helpers import run_cli
from .web_server import chromium, free_port, web_compiler

ADDRESS = "http://127.0.0.1:8000"
PROGRAM = "import toreador\nprint('hello')\n"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    settings = Settings(
        allow_run=True,
        limits=Limits(seconds=5.0, memory_bytes=512 * 1024 * 1024),
        sandbox=Sandbox(None),
        run_slots=1,
    )
    with TestClient(create_app(settings), base_url=ADDRESS) as started:
        yield started


def test_a_text_plain_body_is_refused_before_anything_runs(client: TestClient) -> None:
    for path in ("/api/runs", "/api/run", "/api/compile", "/api/zip"):
        answer = client.post(
            path,
            content=json.dumps({"source": PROGRAM}),
            headers={"content-type": "text/plain"},
        )
        assert answer.status_code == 415, (path, answer.text)
        assert "application/json" in answer.json()["error"]
    form = client.post("/api/runs", data={"source": PROGRAM})  # an HTML form's body
    assert form.status_code == 415


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://attacker.example"},
        {"origin": "http://127.0.0.1:9999"},  # another port of this machine: another origin
        {"origin": "null"},  # a sandboxed frame, a file:// page
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_request_from_another_origin_is_403(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post("/api/runs", json={"source": PROGRAM}, headers=headers)
    assert answer.status_code == 403
    assert "refused" in answer.json()["error"]


def test_the_page_itself_and_a_script_without_origin_are_served(client: TestClient) -> None:
    own = client.post(
        "/api/compile",
        json={"source": PROGRAM},
        headers={"origin": ADDRESS, "sec-fetch-site": "same-origin"},
    )
    assert own.status_code == 200
    assert client.post("/api/compile", json={"source": PROGRAM}).status_code == 200  # curl


@pytest.mark.parametrize("path", ["/", "/api/info", "/api/runs/anything"])
def test_a_foreign_host_is_421(client: TestClient, path: str) -> None:
    """A DNS-rebinding page reaches this server under its own name: nothing is answered."""
    answer = client.get(path, headers={"host": "attacker.example:8000"})
    assert answer.status_code == 421
    assert "allowed-host" in answer.json()["error"]
    assert client.get(path, headers={"host": "127.0.0.1:8001"}).status_code == 421


def test_every_answer_forbids_framing_sniffing_and_foreign_content(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", policy)
    assert "style=" not in page.text  # inline style attributes would need unsafe-inline
    refused = client.get("/", headers={"host": "evil.example"})
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_run_ids_are_unguessable(client: TestClient) -> None:
    keys = [client.post("/api/runs", json={"source": PROGRAM}).json()["id"] for _ in range(3)]
    assert len(set(keys)) == 3
    for key in keys:  # 24 random bytes, URL-safe base64: 192 bits
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key), key
    for guess in ("r1", "r2", "1", "0"):
        assert client.get(f"/api/runs/{guess}").status_code == 404


def test_allowed_hosts_follow_the_address_and_the_option() -> None:
    assert set(allowed_hosts("127.0.0.1", 8000)) == {
        "127.0.0.1:8000",
        "localhost:8000",
        "[::1]:8000",
    }
    assert allowed_hosts("10.1.2.3", 80, ["compiler.example"]) == (
        "10.1.2.3:80",
        "compiler.example:80",
        "10.1.2.3",
        "compiler.example",
    )
    assert "team.example:443" in allowed_hosts("0.0.0.0", 8000, ["team.example:443"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--host", "0.0.0.0"], "needs --allowed-host NAME"),
        (["--allowed-host", "evil.example; rm -rf /"], "--allowed-host"),
    ],
)
def test_serve_refuses_an_unnamed_public_address_and_a_bad_name(
    options: list[str], message: str
) -> None:
    done = run_cli("serve", "--port", str(free_port()), *options)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


# --- a hostile page in a real browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with web_compiler("--allow-run", "--unsafe-no-sandbox", "--run-seconds", "10") as url:
        yield url


@pytest.fixture(scope="module")
def attacker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A web site of the attacker's on another loopback port (its folder, for its pages)."""
    folder = tmp_path_factory.mktemp("attacker")
    handler = functools.partial(_Quiet, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}", folder
    finally:
        site.shutdown()
        site.server_close()


def _wait_for_runs(server: str, count: int) -> None:
    """``count`` runs sent now, to their end: the queue is first in, first out, so a run an
    attack queued before them has been taken by then."""
    keys = [
        httpx.post(f"{server}/api/runs", json={"source": PROGRAM}).json()["id"]
        for _ in range(count)
    ]
    deadline = time.monotonic() + 60
    for key in keys:
        while httpx.get(f"{server}/api/runs/{key}").json()["state"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_a_hostile_page_cannot_run_code_or_frame_the_compiler(
    server: str, attacker: tuple[str, Path], tmp_path: Path
) -> None:
    site, folder = attacker
    marker = tmp_path / "written-by-the-attack"
    source = f"import toreador\nopen({str(marker)!r}, 'w').write('x')\n"
    body = json.dumps(json.dumps({"source": source}))
    # a text/plain form sends name=value: this one sends the same JSON object
    form_name = html.escape(json.dumps({"source": source})[:-1] + ', "pad": "')
    (folder / "index.html").write_text(
        f"""<!doctype html><html><body>
<iframe id="framed" src="{server}/"></iframe>
<script>
const sent = [];
sent.push(fetch("{server}/api/runs", {{method: "POST", mode: "no-cors",
  headers: {{"content-type": "text/plain"}}, body: {body}}}).then(() => "sent", () => "failed"));
sent.push(fetch("{server}/api/run", {{method: "POST",
  headers: {{"content-type": "application/json"}}, body: {body}}}).then(
  (r) => "read " + r.status, () => "blocked"));
Promise.all(sent).then((outcomes) => {{ document.title = outcomes.join(","); }});
</script>
<form id="form" method="POST" action="{server}/api/runs" enctype="text/plain" target="sink">
<input name="{form_name}" value='"}}'></form>
<iframe name="sink"></iframe>
</body></html>"""
    )
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{site}/index.html")
        page.wait_for_function("() => document.title !== ''", timeout=30_000)
        # the no-cors request went out (its answer is opaque, or withheld from the page by
        # Cross-Origin-Resource-Policy); the JSON one never left (no preflight is granted)
        assert page.title() in ("sent,blocked", "failed,blocked")
        with page.expect_response(lambda r: r.url.endswith("/api/runs")) as posted:
            page.evaluate("document.getElementById('form').submit()")
        assert posted.value.status in (403, 415)
        framed = page.frame_locator("#framed")
        assert framed.locator("#source").count() == 0  # X-Frame-Options: DENY
        page.close()
    _wait_for_runs(server, 2)
    assert not marker.exists(), "a cross-site page ran code on the web compiler"


def test_a_rebinding_page_is_answered_nothing(server: str) -> None:
    """The attacker's name resolves to this machine (Chromium's resolver rule stands in
    for the attacker's DNS): the page, the API and a run's result are all refused."""
    port = server.rsplit(":", 1)[1]
    key = httpx.post(f"{server}/api/runs", json={"source": PROGRAM}).json()["id"]
    with chromium("--host-resolver-rules=MAP attacker.example 127.0.0.1") as browser:
        page = browser.new_page()
        for path in ("/", "/api/info", f"/api/runs/{key}"):
            answer = page.goto(f"http://attacker.example:{port}{path}")
            assert answer is not None and answer.status == 421, path
            assert "hello" not in page.content() and "toreador web compiler" not in page.content()
        page.close()


def test_the_page_keeps_working_under_its_policy(server: str) -> None:
    """The policy lets the page's own script and style run and nothing else: no
    violation is reported while the page compiles a program."""
    with chromium() as browser:
        page = browser.new_page()
        messages: list[str] = []
        page.on("console", lambda message: messages.append(message.text))
        page.goto(server)
        page.fill("#source", "from toreador import data_parallel_region\n")
        page.click("#submit")
        page.wait_for_selector("#files button.current")
        color = page.eval_on_selector("#submit", "b => getComputedStyle(b).backgroundColor")
        assert color == "rgb(163, 38, 42)"  # the page's own stylesheet applied
        assert not [m for m in messages if "Content Security Policy" in m], messages
        page.close()


# --- malformed requests: each a 400 naming what is wrong, never a 500


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"source": "print(1)\\n\\ud800\\n"}', "'source' holds '\\ud800' at line 2"),
        (b'{"source": "print(1)", "model": "\\udfff"}', "'model' holds"),
        (b'{"source": "print(1)", "args": ["a", "b\\u0000"]}', "argument 2 holds a NUL byte"),
        (
            b'{"source": "print(1)", "args": ["' + b"x" * 200_000 + b'"]}',
            "argument 1 is 200000 characters long",
        ),
        (b'{"source": "print(1)", "args": "a \\"b"}', "'args': No closing quotation"),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_field(
    client: TestClient, body: bytes, message: str
) -> None:
    for path in ("/api/compile", "/api/runs"):
        if path == "/api/compile" and b"args" in body:
            continue  # a compile takes no arguments
        answer = client.post(path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, (path, answer.text[:300])
        assert message in answer.json()["error"]


# --- the server's own cost


@dataclasses.dataclass(frozen=True)
class Slow:
    """Stands for a compile request: a source of ``size`` characters taking ``seconds``."""

    source: str
    seconds: float


def slow_compile(request: Slow) -> str:
    time.sleep(request.seconds)
    return f"compiled {len(request.source)}"


def test_a_compile_past_the_time_limit_is_stopped_and_its_worker_replaced() -> None:
    pool = CompilePool(1, seconds=2.0)
    try:
        started = time.monotonic()
        with pytest.raises(CompileTimeout, match="longer than 2 s and was stopped"):
            pool.submit(slow_compile, Slow("x" * 100_000, 60.0)).result(timeout=60)
        assert time.monotonic() - started < 30
        assert pool.submit(slow_compile, Slow("x" * 100_000, 0.0)).result(timeout=60) == (
            "compiled 100000"
        )
    finally:
        pool.close()


def test_a_small_compile_does_not_wait_behind_big_ones() -> None:
    """Four big compiles keep every worker busy; a small one is answered at once."""
    pool = CompilePool(1, seconds=60.0)
    try:
        pool.submit(slow_compile, Slow("", 0.0)).result(timeout=60)  # the workers started
        big = [pool.submit(slow_compile, Slow("x" * 400_000, 3.0)) for _ in range(4)]
        time.sleep(0.2)
        started = time.monotonic()
        small = pool.submit(slow_compile, Slow("print(1)\n", 0.0))
        assert small.result(timeout=60) == "compiled 9"
        assert time.monotonic() - started < 2.5
        assert sum(future.done() for future in big) <= 1
        assert [future.result(timeout=60) for future in big] == ["compiled 400000"] * 4
    finally:
        pool.close()


def test_a_queued_run_is_told_how_long_it_may_wait() -> None:
    settings = Settings(
        allow_run=True,
        limits=Limits(seconds=5.0, memory_bytes=512 * 1024 * 1024),
        sandbox=Sandbox(None),
        run_slots=1,
    )
    source = "import time\nimport toreador\ntime.sleep(1)\nprint('done')\n"
    with TestClient(create_app(settings), base_url=ADDRESS) as runs:
        keys = [runs.post("/api/runs", json={"source": source}).json()["id"] for _ in range(3)]
        third = runs.get(f"/api/runs/{keys[2]}").json()
        assert third["state"] == "queued"
        # at most: every run ahead uses its two sides' 5 s and a compile's 30 s
        assert third["wait"]["at_most"] <= third["position"] * (2 * 5 + 30)
        assert third["wait"]["at_most"] > 2 * 5
        assert 0 <= third["wait"]["about"] <= third["wait"]["at_most"]


def test_kept_answers_are_compressed_and_capped() -> None:
    queue = RunQueue(1, kept_bytes=20_000)
    try:
        # 10,000 random hex digits: about 5.5 kB compressed, eight of them over the cap
        outputs = [secrets.token_hex(5000) for _ in range(8)]
        keys = [queue.submit(lambda slot, text=text: {"stdout": text}) for text in outputs]
        deadline = time.monotonic() + 30
        while queue.status(keys[-1])["state"] != "done":  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        kept = [key for key in keys if queue.status(key) is not None]
        assert keys[-1] in kept and len(kept) < len(keys)  # the oldest went first
        assert queue.status(keys[-1])["result"]["stdout"] == outputs[-1]  # type: ignore[index]
        assert sum(len(entry.answer) for entry in queue.entries.values()) <= 20_000
    finally:
        queue.close()


@pytest.mark.parametrize(
    ("source", "answer"),
    [
        ("# coding: undefined\nprint(1)\n", "cannot decode file"),
        ("print(1)\x00\n", "source code string cannot contain null bytes"),
        ("x = " + "[" * 140 + "]" * 140 + "\nprint(x)\n", ""),
        ("def g(x):\n    return x\n\n\nprint(" + "g(" * 150 + "1" + ")" * 150 + ")\n", ""),
        ("s = (" + " ".join(['"a"'] * 500) + ")\nprint(s)\n", ""),
    ],
)
def test_a_hostile_source_is_compiled_or_refused_never_a_500(
    client: TestClient, source: str, answer: str
) -> None:
    compiled = client.post("/api/compile", json={"source": source})
    if answer:
        assert compiled.status_code == 422
        assert answer in compiled.json()["diagnostics"][0]["message"]
    else:
        assert compiled.status_code == 200, compiled.text[:500]
