"""The docker engine's image: built once per program content from the generated Dockerfile,
kept as a cache. The pinned requirements are collected as wheels here (pip's cache and index
settings) and served to the build on loopback, so the build itself needs no index.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

MAX_BUILD_ATTEMPTS = 10


class DockerEngineError(RuntimeError):
    """The Docker engine or a worker container failed outside the kernel."""


def progress(text: str) -> None:
    sys.stderr.write(f"toreador: {text}\n")
    sys.stderr.flush()


def _pip_wheel(folder: Path, requirements: list[str]) -> bool:
    """pip wheel into ``folder`` with this interpreter (its cache, its index settings)."""
    folder.mkdir(exist_ok=True)
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(folder),
            *requirements,
        ],
        stdout=sys.stderr,
        stderr=sys.stderr,
        check=False,
    )
    return made.returncode == 0


def _serve_folder(folder: Path) -> Any:
    """An HTTP server on loopback listing ``folder``: pip's --find-links during a build."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # no access log: stderr is for progress

    handler = functools.partial(Quiet, directory=str(folder))
    # the URL is a build argument, part of the cache key of the install step: a port chosen
    # by the folder (a random one only when that is taken) lets later builds reuse the step
    preferred = (
        20000 + int(hashlib.sha256(str(folder).encode()).hexdigest(), 16) % 30000
    )
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", preferred), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ImageBuilder:
    """Builds (or finds) the program's image on one Docker engine."""

    def __init__(
        self,
        client: Any,
        docker: Any,
        folder: Path,
        label: str,
        app_name: str,
        local: bool,
    ) -> None:
        self.client, self.docker, self.folder = client, docker, folder
        self.label, self.app_name, self.local = label, app_name, local

    def image(self, base: str) -> str:
        """The image's tag: named by the content of the generated folder and the base."""
        digest = hashlib.sha256(base.encode())
        ignored = {"__pycache__", ".wheels"}
        for path in sorted(self.folder.rglob("*")):
            relative = path.relative_to(self.folder)
            if path.is_file() and not ignored & set(relative.parts):
                digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes())
        tag = f"toreador-{self.app_name.removeprefix('toreador-')}:{digest.hexdigest()[:12]}"
        try:
            self.client.images.get(tag)
            return tag
        except self.docker.errors.ImageNotFound:
            pass
        progress(f"building image {tag} from {base} (once; kept as a cache)")
        started = time.monotonic()
        wheels = self._collect_wheels() if self.local else None
        for _ in range(MAX_BUILD_ATTEMPTS):
            missing = self._build(tag, base, wheels)
            if missing is None:
                break
            # the image's Python may need what this machine's did not (an environment
            # marker on another version): fetch it here and build again
            assert wheels is not None
            progress(f"the image's Python needs {missing} too: collecting it")
            if not _pip_wheel(wheels, [missing]):
                raise DockerEngineError(
                    f"{self.label}: could not collect {missing} for the "
                    f"image (pip wheel failed here)"
                )
        else:
            raise DockerEngineError(
                f"{self.label}: the image still lacked requirements "
                f"after {MAX_BUILD_ATTEMPTS} builds (the last: {missing})"
            )
        progress(f"image {tag} built in {time.monotonic() - started:.1f} s")
        return tag

    def _build(self, tag: str, base: str, wheels: Path | None) -> str | None:
        """One image build; with a wheelhouse, the requirement it lacked (None: built)."""
        arguments = {"BASE_IMAGE": base}
        server = _serve_folder(wheels) if wheels is not None else None
        if server is not None:
            arguments.update(
                {
                    "PIP_FIND_LINKS": f"http://127.0.0.1:{server.server_address[1]}/",
                    "PIP_NO_INDEX": "1",
                }
            )
        try:
            self.client.images.build(
                path=str(self.folder),
                tag=tag,
                buildargs=arguments,
                network_mode="host",
                rm=True,
                forcerm=True,
                labels={"toreador.program": self.app_name},
            )
        except self.docker.errors.BuildError as error:
            log = "".join(
                str(part.get("stream", part.get("error", "")))
                for part in error.build_log
            )
            lacking = re.search(r"satisfies the requirement (\S+?);? ", log)
            if wheels is not None and lacking:
                return lacking[1]
            raise DockerEngineError(
                f"{self.label}: building the image from {base} failed: {error}\n"
                f"{log[-3000:]}"
            ) from None
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
        return None

    def _collect_wheels(self) -> Path | None:
        """The pinned requirements as wheels (.wheels/ in the generated folder), made from pip's
        cache here and served to the image build on loopback, so the build needs no index;
        None when there is nothing to collect or pip cannot (the build then uses its index)."""
        requirements = self.folder / "requirements.txt"
        pins = (
            [
                line
                for line in requirements.read_text().splitlines()
                if line.strip() and not line.startswith("#")
            ]
            if requirements.exists()
            else []
        )
        if not pins:
            return None
        wheels = Path(os.environ.get("TOREADOR_WHEELHOUSE") or self.folder / ".wheels")
        stamp = wheels / (
            hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12] + ".done"
        )
        if not stamp.exists():
            progress(f"collecting wheels for {len(pins)} requirement(s) into {wheels}")
            if not _pip_wheel(wheels, ["-r", str(requirements)]):
                progress(
                    "could not collect wheels here; the image build uses pip's index"
                )
                return None
            stamp.touch()
        return wheels
