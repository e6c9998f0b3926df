"""A real Docker engine for the tests, started and stopped by pid (see engines.md).

dockerd runs without its default bridge (a private range) and without iptables, with its
state in a temporary folder; containers use host or no networking. No registry is reachable,
so the base image is made here: a minimal Debian (debootstrap) with python3, pip and
redis-server, imported as ``toreador-base:test``. Its root file system is kept in
``.test-cache/`` (ignored by git) so that a second run on one machine skips debootstrap.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".test-cache"
BASE_IMAGE = "toreador-base:test"
BASE_PACKAGES = "python3,python3-pip,redis-server"
RUN_LABEL = "toreador.run"


@dataclass(frozen=True)
class Engine:
    """A running dockerd: its socket URL, its pid and its state folder."""

    url: str
    pid: int
    folder: Path


class EngineUnavailable(RuntimeError):
    """The engine cannot start here; the tests that need it skip with this reason."""


def missing_programs() -> list[str]:
    return [name for name in ("dockerd", "debootstrap") if shutil.which(name) is None]


def start_engine() -> Engine:
    """dockerd in a fresh folder under /tmp (short paths: its sockets have a length limit)."""
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd needs root here")
    missing = missing_programs()
    if missing:
        raise EngineUnavailable(f"not installed: {', '.join(missing)} (scripts/engines.sh)")
    folder = Path(tempfile.mkdtemp(prefix="tdk-", dir="/tmp"))
    url = f"unix://{folder}/docker.sock"
    log = open(folder / "dockerd.log", "wb")  # noqa: SIM115 - kept open for dockerd's life
    process = subprocess.Popen(
        ["dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false",
         "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
         "--pidfile", str(folder / "docker.pid"), "-H", url],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    log.close()
    engine = Engine(url, process.pid, folder)
    import docker

    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            text = (folder / "dockerd.log").read_text(errors="replace")[-2000:]
            remove_state(folder)
            raise EngineUnavailable(f"dockerd exited with {process.returncode}: {text}")
        try:
            client = docker.DockerClient(base_url=url)
            client.ping()
            client.close()
            return engine
        except Exception:
            if time.monotonic() > deadline:
                stop_engine(engine)
                raise EngineUnavailable("dockerd did not answer within 60 s") from None
            time.sleep(0.2)


def build_base_image(engine: Engine) -> str:
    """``toreador-base:test``: Debian bookworm (minbase) with python3, pip and redis-server."""
    import docker

    client = docker.DockerClient(base_url=engine.url)
    try:
        try:
            client.images.get(BASE_IMAGE)
            return BASE_IMAGE
        except docker.errors.ImageNotFound:
            pass
        CACHE.mkdir(exist_ok=True)
        archive = CACHE / f"bookworm-{BASE_PACKAGES.replace(',', '-')}.tar"
        if not archive.exists():
            root = Path(tempfile.mkdtemp(prefix="tdk-root-", dir="/tmp"))
            try:
                made = subprocess.run(
                    ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
                     "bookworm", str(root)],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                if made.returncode != 0:
                    raise EngineUnavailable(f"debootstrap failed: {made.stderr[-2000:]}")
                partial = archive.with_suffix(".partial")
                subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
                partial.rename(archive)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        with open(archive, "rb") as data:
            client.api.import_image_from_data(data.read(), repository=BASE_IMAGE)
        return BASE_IMAGE
    finally:
        client.close()


def leftovers(engine: Engine) -> list[str]:
    """Containers, volumes and networks a generated program left behind (its run label)."""
    import docker

    client = docker.DockerClient(base_url=engine.url)
    try:
        # sparse: names from the listing itself, so a container removed meanwhile (a run
        # finishing its clean-up) cannot fail the inspection of each
        listed = client.containers.list(all=True, sparse=True)
        found = [f"container {c.attrs['Names'][0].lstrip('/')}" for c in listed]
        found += [f"volume {v.name}" for v in client.volumes.list()]
        found += [
            f"network {n.name}"
            for n in client.networks.list()
            if n.name not in ("host", "none", "bridge")
        ]
        return found
    finally:
        client.close()


def stop_engine(engine: Engine) -> None:
    """Stop dockerd by its pid, then remove its state (its netns mount first)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(engine.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(engine.pid, os.WNOHANG)
        except ChildProcessError:
            break
        if finished:
            break
        time.sleep(0.1)
    else:
        os.kill(engine.pid, signal.SIGKILL)
        os.waitpid(engine.pid, 0)
    remove_state(engine.folder)


def remove_state(folder: Path) -> None:
    netns = folder / "exec" / "netns"
    if netns.is_dir():
        for mount in netns.iterdir():
            subprocess.run(["umount", str(mount)], capture_output=True, check=False)
    subprocess.run(["umount", "-R", str(folder / "data")], capture_output=True, check=False)
    shutil.rmtree(folder, ignore_errors=True)
