"""The web compiler's page end to end: a real `toreador-compile serve --allow-run` (stopped by
pid), driven in headless Chromium (Debian's, through Playwright): paste -> choose -> submit ->
see files -> download -> run, and a compile error shown at its line."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import EXAMPLES
from .web_server import chromium, web_compiler


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with web_compiler("--allow-run", "--run-seconds", "20") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as started:
        yield started


def test_paste_choose_submit_see_download_run(server: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(accept_downloads=True)
    page.goto(server)
    source = (EXAMPLES / "generator_producer.py").read_text()
    page.fill("#filename", "stream.py")
    page.fill("#source", source)
    page.select_option("#pattern", "bag-of-tasks")
    page.select_option("#target", "local")
    page.click("#submit")
    page.wait_for_selector("#files button.current")
    tabs = page.locator("#files button").all_inner_texts()
    assert {"Main.py", "Worker.py", "stream_shared.py", "manifest.json"} <= set(tabs)
    assert "run_region" in page.inner_text("#view")
    page.click("#files button[data-name='Worker.py']")
    assert "def run_tasks" in page.inner_text("#view")
    assert page.locator("#view .code span.k").count() > 0  # keywords marked by Pygments
    assert "bag-of-tasks" in page.inner_text("#manifest")

    with page.expect_download() as waiting:
        page.click("#download")
    download = waiting.value
    assert download.suggested_filename == "stream-local.zip"
    saved = tmp_path / "out.zip"
    download.save_as(saved)
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    assert "stream-local/Main.py" in names and "stream-local/Worker.py" in names

    page.click("#run")
    page.wait_for_selector("#verdict.equal, #verdict.differ", timeout=60_000)
    assert page.inner_text("#verdict").startswith("equal")
    assert page.inner_text("#reference-out") == page.inner_text("#generated-out") != ""
    page.close()


def test_an_uploaded_file_with_an_error_shows_the_line(
    server: str, browser: Any, tmp_path: Path
) -> None:
    program = tmp_path / "broken.py"
    program.write_text(
        "from toreador import data_parallel_region\n\ntotal = 0\n\n"
        "def add(x):\n    global total\n    total += x\n    return total\n\n"
        "print(data_parallel_region([1, 2], add))\n"
    )
    page = browser.new_page()
    page.goto(server)
    page.set_input_files("#upload", str(program))
    page.wait_for_function("() => document.getElementById('filename').value === 'broken.py'")
    page.click("#submit")
    page.wait_for_selector("#diagnostics .diagnostic")
    message = page.inner_text("#diagnostics")
    assert message.startswith("broken.py:")
    line = int(message.split(":")[1])
    highlighted = page.locator("#view .hll").all_inner_texts()
    assert (
        highlighted and highlighted[0].strip() == program.read_text().splitlines()[line - 1].strip()
    )
    assert page.locator("#download").is_disabled()
    page.close()


SLOW = "import time\nfrom toreador import data_parallel_region\ntime.sleep(3)\nprint('slept')\n"


def test_a_run_waits_in_the_queue_showing_its_place(server: str, browser: Any) -> None:
    """Two slow runs fill the server's slots (one per core); a third page shows its place in
    the queue, then its result."""
    pages = [browser.new_page() for _ in range(3)]
    for page in pages:
        page.goto(server)
        page.fill("#source", SLOW)
    assert "bubblewrap" in pages[0].inner_text("#sandbox")
    slots = len(os.sched_getaffinity(0))
    for page in pages[:slots]:
        page.click("#run")
        page.wait_for_function(
            "() => document.getElementById('verdict').textContent === 'running…'"
        )
    pages[-1].click("#run")
    pages[-1].wait_for_function(
        "() => document.getElementById('verdict').textContent"
        ".startsWith('queued: position 1, about ')"
    )
    for page in pages:
        page.wait_for_selector("#verdict.equal, #verdict.differ", timeout=90_000)
        assert page.inner_text("#verdict").startswith("equal")
        assert page.inner_text("#reference-out").strip() == "slept"
        page.close()


def test_an_attack_gets_its_verdict_and_another_target_is_said_to_run_locally(
    server: str, browser: Any
) -> None:
    page = browser.new_page()
    page.goto(server)
    assert page.locator("#run-target").is_hidden()
    page.select_option("#target", "spark")
    note = page.inner_text("#run-target")
    assert "local engine with the same pattern" in note and "spark target" in note
    flood = "from toreador import data_parallel_region\nwhile True:\n    print('x' * 1000)\n"
    page.fill("#source", flood)
    page.click("#run")
    page.wait_for_selector("#verdict.equal, #verdict.differ", timeout=60_000)
    for side in ("reference", "generated"):
        assert page.inner_text(f"#{side}-status").startswith("output cut: exit -9")
    page.close()


def test_suggest_shows_the_diff_and_gives_the_annotated_program(server: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(server)
    page.fill(
        "#source",
        "def cube(x):\n    return x ** 3 + sum(range(x))\n\n\n"
        "values = []\nfor x in range(5):\n    values.append(cube(x))\nprint(values)\n",
    )
    page.click("#suggest")
    page.wait_for_selector("#take-suggestion")
    assert "values = data_parallel_region(range(5), cube)" in page.inner_text("#view")
    assert "parallel" in page.inner_text("#verdicts")
    page.click("#take-suggestion")
    assert page.input_value("#source").startswith("from toreador import data_parallel_region")
    page.click("#submit")
    page.wait_for_selector("#files button.current")
    assert "data_parallel_region" in page.inner_text("#manifest")
    page.close()
