"""Make docs/web-compiler.png: the web compiler after compiling and running an example.

Run: .venv/bin/python scripts/web_screenshot.py (needs Debian's chromium and playwright).
Starts `toreador-compile serve --allow-run` on a free loopback port and stops it by pid.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "from toreador.compiler.cli import main; main()", "serve",
         "--port", str(port), "--allow-run"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#filename", "nested.py")
            page.fill("#source", (ROOT / "examples" / "nested.py").read_text())
            page.select_option("#pattern", "auto")
            page.select_option("#target", "local")
            page.click("#submit")
            page.wait_for_selector("#files button.current")
            page.click("#files button[data-name='nested_shared.py']")
            page.click("#run")
            page.wait_for_selector("#verdict.equal, #verdict.differ", timeout=60_000)
            page.screenshot(path=str(ROOT / "docs" / "web-compiler.png"), full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(ROOT / "docs" / "web-compiler.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
