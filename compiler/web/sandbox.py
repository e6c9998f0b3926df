"""Running pasted code: only in a subprocess, in a temporary folder, with limits.

The server runs code only when started with --allow-run; even then a run gets a wall-clock
limit (its whole process group is killed), an address-space limit, a CPU-time limit, a cap on
the output kept, no stdin and a minimal environment. These limits contain mistakes (an endless
loop, a runaway allocation); they are not a security boundary against a hostile user, which is
why running is off by default and the page says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0
    memory_bytes: int = 1024 * 1024 * 1024
    output_bytes: int = 256 * 1024


@dataclass(frozen=True)
class SandboxResult:
    """What one run printed, how it ended, and whether a limit stopped it."""

    stdout: str
    stderr: str
    returncode: int
    seconds: float
    timed_out: bool
    truncated: bool


# The child sets its own limits, then becomes the program (exec keeps them): no preexec_fn,
# which is unsafe in a server with threads.
LIMITER = (
    "import os, resource, sys\n"
    "memory, cpu = int(sys.argv[1]), int(sys.argv[2])\n"
    "resource.setrlimit(resource.RLIMIT_AS, (memory, memory))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[3:]])\n"
)


def run_limited(script: Path, args: list[str], folder: Path, limits: Limits) -> SandboxResult:
    """Run ``python script args`` in ``folder`` under ``limits``."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "TOREADOR_PROGRESS": "0",
    }
    started = time.monotonic()
    cpu_seconds = int(limits.seconds) + 1
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LIMITER,
            str(limits.memory_bytes),
            str(cpu_seconds),
            str(script),
            *args,
        ],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: workers die with it
    )
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    else:
        with contextlib.suppress(ProcessLookupError):  # the program's leftover workers
            os.killpg(process.pid, signal.SIGKILL)
    seconds = time.monotonic() - started
    cap = limits.output_bytes
    truncated = len(stdout) > cap or len(stderr) > cap
    return SandboxResult(
        stdout[:cap].decode("utf-8", "replace"),
        stderr[-cap:].decode("utf-8", "replace"),
        process.returncode,
        seconds,
        timed_out,
        truncated,
    )
