"""A real `toreador-compile serve` on a free loopback port, stopped by pid: for the page
tests and scripts/web_screenshot.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("TOREADOR_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def web_compiler(*options: str) -> Iterator[str]:
    """The server's URL while it runs; ``options`` go to `toreador-compile serve`."""
    with web_compiler_process(*options) as (url, _):
        yield url


@contextlib.contextmanager
def web_compiler_process(
    *options: str, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The server's URL and its process while it runs (in ``env``, if given)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from toreador.compiler.cli import main; main()", "serve",
         "--port", str(port), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    _, error = process.communicate()
                    raise RuntimeError(f"the web compiler did not start: {error!r}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextlib.contextmanager
def chromium(*arguments: str) -> Iterator[Any]:
    """Headless Chromium (Debian's, through Playwright), or the test skipped with the reason;
    ``arguments`` go to Chromium's command line."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/engines.sh installs Debian's)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", *arguments],
        )
        try:
            yield browser
        finally:
            browser.close()
