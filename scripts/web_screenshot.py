"""Make docs/web-compiler.png: the web compiler after compiling and running an example.

Run: .venv/bin/python scripts/web_screenshot.py (needs Debian's chromium and playwright).
Starts `toreador-compile serve --allow-run` on a free loopback port (tests/web_server.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.web_server import web_compiler  # noqa: E402


def main() -> int:
    with web_compiler("--allow-run") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(url)
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
    print(ROOT / "docs" / "web-compiler.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
