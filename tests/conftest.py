"""Fixtures shared by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def spark_session():  # type: ignore[no-untyped-def]
    """One local Spark session (local[2]) for the whole test run: starting one costs ~8 s.

    Generated programs run in this process (tests.helpers.run_in_session) and find it as the
    active session. Each program is compiled from a copy of its source under a name of its
    own (tests.helpers.compile_for_session): executors keep the modules they imported.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("toreador-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{log.name}: exited with {process.returncode}:\n{log.read_text()}")
        time.sleep(0.2)
    raise RuntimeError(f"{log.name}: no '{text}' after {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real standalone Spark cluster on 127.0.0.1 (one master, one worker with 2 cores),
    from pyspark's own jars; both stopped by pid at the end. Yields the environment in which
    run_spark.sh submits to it."""
    try:
        import pyspark
    except ImportError:
        pytest.skip("pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark")
    home = Path(pyspark.__file__).parent
    folder = tmp_path_factory.mktemp("spark-cluster")
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    env = dict(
        os.environ,
        SPARK_HOME=str(home),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(folder),
        SPARK_WORKER_DIR=str(folder / "work"),
        PYSPARK_PYTHON=sys.executable,
        TOREADOR_PROGRESS="0",
    )
    spark_class = str(home / "bin" / "spark-class")
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                   "--port", str(port), "--webui-port", str(ui)],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker",
                   f"spark://127.0.0.1:{port}", "--host", "127.0.0.1", "--cores", "2",
                   "--memory", "3g", "--webui-port", str(worker_ui),
                   "--work-dir", str(folder / "work")],
    }  # fmt: skip
    started: list[subprocess.Popen[bytes]] = []
    try:
        for role, command in commands.items():
            log = folder / f"{role}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen(
                    command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=folder
                )
            started.append(process)
            ready = "I have been elected leader" if role == "master" else "Successfully registered"
            _wait_for(log, ready, process, 90)
        yield dict(env, SPARK_MASTER=f"spark://127.0.0.1:{port}")
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real Docker engine (dockerd without bridge or iptables, state in a temp folder) with
    the local base image ``toreador-base:test``, for the whole run; stopped by pid. Yields the
    environment a generated docker program runs in; ``ENGINE`` holds the engine itself."""
    from . import docker_engine as engines

    try:
        engine = engines.start_engine()
    except engines.EngineUnavailable as reason:
        pytest.skip(f"no Docker engine: {reason}")
    try:
        try:
            engines.build_base_image(engine)
        except engines.EngineUnavailable as reason:
            pytest.skip(f"no base image: {reason}")
        wheels = tmp_path_factory.mktemp("wheelhouse")
        env = dict(
            os.environ,
            DOCKER_HOST=engine.url,
            TOREADOR_WHEELHOUSE=str(wheels),
            TOREADOR_PROGRESS="0",
        )
        env.pop("TOREADOR_DOCKER_BASE_IMAGE", None)
        DOCKER_ENGINES.append(engine)
        yield env
    finally:
        DOCKER_ENGINES.clear()
        engines.stop_engine(engine)


DOCKER_ENGINES: list[object] = []  # the running test engine, for docker_leftovers()


def docker_leftovers() -> list[str]:
    """What generated programs left on the test engine: must be nothing."""
    from . import docker_engine as engines

    return engines.leftovers(DOCKER_ENGINES[0])  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server on 127.0.0.1 (Debian's redis-server), stopped by pid."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/engines.sh)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.skip("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)
