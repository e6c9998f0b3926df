"""Fixtures shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_program(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "program.py") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def hadoop_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A Hadoop installation for the tests, on Hadoop's real MapReduce framework.

    pyspark ships Hadoop 3's MapReduce client jars (Job, LocalJobRunner, RunJar, FsShell); the
    streaming jar is not installable here, so the test-only ToreadorStreaming driver (same
    command line) is compiled with javac against those jars. The environment it returns
    (HADOOP_HOME, ...) makes a generated Main.py run its jobs through bin/hadoop.
    """
    import os
    import shutil
    import subprocess

    try:
        import pyspark
    except ImportError:
        pytest.skip("pyspark (which carries Hadoop's MapReduce jars) is not installed")
    jars = Path(pyspark.__file__).parent / "jars"
    if not list(jars.glob("hadoop-client-api-*.jar")):
        pytest.skip(f"no Hadoop client jars in {jars}")
    if shutil.which("javac") is None or shutil.which("jar") is None:
        pytest.skip("no JDK (javac, jar) to compile the test streaming driver")
    here = Path(__file__).resolve().parent / "hadoop"
    home = tmp_path_factory.mktemp("hadoop-home")
    classes = home / "classes"
    subprocess.run(
        ["javac", "-cp", f"{jars}/*", "-d", str(classes), str(here / "ToreadorStreaming.java")],
        check=True,
    )
    lib = home / "share" / "hadoop" / "tools" / "lib"
    lib.mkdir(parents=True)
    subprocess.run(
        [
            "jar",
            "cfe",
            str(lib / "hadoop-streaming-toreador.jar"),
            "ToreadorStreaming",
            "-C",
            str(classes),
            ".",
        ],
        check=True,
    )
    (home / "bin").mkdir()
    shutil.copy(here / "hadoop_launcher.sh", home / "bin" / "hadoop")
    (home / "etc" / "hadoop").mkdir(parents=True)
    shutil.copy(here / "core-site.xml", home / "etc" / "hadoop" / "core-site.xml")
    return dict(
        os.environ, HADOOP_HOME=str(home), TOREADOR_HADOOP_JARS=str(jars), TOREADOR_PROGRESS="0"
    )
