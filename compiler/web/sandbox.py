"""Running pasted code: every run inside a bubblewrap sandbox, under limits.

The web compiler runs code only when started with --allow-run, and then only inside a sandbox
made by bubblewrap (`bwrap`, the sandbox Flatpak uses), unless its operator passes
--unsafe-no-sandbox. A run (the reference program, then the generated Main.py, each with its
worker processes) gets:

- its own network namespace with no route out (not even to the host's loopback), its own pid,
  ipc and uts namespaces: it cannot see or signal the server's processes;
- a file system of only what Python needs, read-only (the interpreter, the venv, the folders
  the installed packages live in, ``/usr``), a private folder holding the program (a tmpfs of
  ``folder_bytes``, gone with the run), a private ``/tmp`` and ``/dev/shm``; no ``/etc`` but
  the loader's cache: no /etc/shadow, no other run's folder, no server environment;
- an unprivileged uid of its own (one per run slot, so concurrent runs cannot reach each
  other's processes), no capabilities, no new privileges, and no kernel keyring (a seccomp
  filter: the one thing a uid keeps between runs, see ``seccomp_filter``);
- limits: wall clock (the whole sandbox killed), address space and CPU time per process, a
  number of processes, a file size, and the output kept (a run that prints more is stopped).

The kernel ends every process of the run's pid namespace when the sandbox's first process
exits or is killed, so nothing outlives a run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cgroups import RunGroup, run_groups
from .seccomp_filter import filter_descriptor, keyring_filter

FIRST_UID = 61000  # run slot k runs as FIRST_UID + k (no name needed: no /etc/passwd inside)
JOB = "/job"  # the run's private folder inside the sandbox
JOB_SOURCE = "/job-source"  # the host folder it is copied from, read-only


@dataclass(frozen=True)
class Limits:
    seconds: float = 10.0
    memory_bytes: int = 1024 * 1024 * 1024
    output_bytes: int = 256 * 1024
    processes: int = 64
    folder_bytes: int = 64 * 1024 * 1024
    file_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class SandboxResult:
    """What one run printed, how it ended, and whether a limit stopped it."""

    stdout: str
    stderr: str
    returncode: int
    seconds: float
    timed_out: bool
    truncated: bool
    memory_killed: bool = False  # the run's control group passed its memory limit

    @property
    def verdict(self) -> str:
        """How the run ended, in a few words the page shows."""
        if self.memory_killed:  # first: what it killed may have left the rest waiting
            return "memory limit"
        if self.timed_out:
            return "time limit"
        if self.truncated:
            return "output cut"
        if self.returncode < 0:
            name = signal.Signals(-self.returncode).name
            return "CPU time limit" if name == "SIGXCPU" else f"killed by {name}"
        last = self.stderr.rstrip().rpartition("\n")[2]
        if last.startswith("MemoryError"):
            return "memory limit"
        return "ok" if self.returncode == 0 else f"exit status {self.returncode}"


@dataclass(frozen=True)
class Sandbox:
    """How runs are contained: ``bwrap`` (the path of bubblewrap) or None for no sandbox
    (rlimits and a process group only, --unsafe-no-sandbox)."""

    bwrap: str | None
    version: str = ""
    readable: tuple[Path, ...] = field(default=())
    groups: tuple[RunGroup, ...] | None = None  # a run slot's control groups, where made
    seccomp: bytes = b""  # the BPF program of the calls a run may not make (seccomp_filter)

    @property
    def description(self) -> str:
        if self.bwrap is None:
            return "no sandbox (--unsafe-no-sandbox): runs have limits but see this machine"
        together = ", memory and processes limited per run" if self.groups else ""
        return (
            f"bubblewrap {self.version}: no network, own processes, read-only Python, "
            f"a private folder, an unprivileged uid, no kernel keyring{together}"
        )

    def command(
        self,
        folder: Path,
        program: list[str],
        slot: int,
        limits: Limits,
        seccomp_fd: int | None = None,
    ) -> list[str]:
        """The command that runs ``python program...`` (paths relative to ``folder``);
        ``seccomp_fd``: a descriptor holding ``self.seccomp`` for bubblewrap to read."""
        limiter = [
            sys.executable,
            "-c",
            LIMITER,
            str(limits.memory_bytes),
            str(int(limits.seconds) + 1),
            str(limits.processes),
            str(limits.file_bytes),
        ]
        group = self.groups[slot] if self.groups else None
        if self.bwrap is None:
            command = [*limiter, "-", *program]
            return group.joined(command) if group else command
        uid = str(FIRST_UID + slot)
        command = [
            self.bwrap,
            *("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"),
            *("--unshare-cgroup-try", "--hostname", "sandbox"),
            *("--die-with-parent", "--new-session", "--clearenv"),
            *("--setenv", "HOME", JOB, "--setenv", "TMPDIR", "/tmp"),
            *("--setenv", "PATH", "/usr/bin:/bin", "--setenv", "PYTHONIOENCODING", "utf-8"),
            *("--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "TOREADOR_PROGRESS", "0"),
            # the private mounts first: a read-only bind below /tmp (a checkout there) goes
            # on top of the run's /tmp, not under it
            *("--perms", "1777", "--size", str(limits.folder_bytes), "--tmpfs", "/tmp"),
            *("--proc", "/proc", "--dev", "/dev"),
            *("--perms", "1777", "--size", str(limits.folder_bytes), "--tmpfs", "/dev/shm"),
            *("--ro-bind", "/usr", "/usr"),
            *_usr_links(),
            *("--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"),
            *_read_only(self.readable),
            *("--ro-bind", str(folder), JOB_SOURCE),
            # 0777: bubblewrap 0.8 cannot chown it; only this run's mount namespace sees it
            *("--perms", "0777", "--size", str(limits.folder_bytes), "--tmpfs", JOB),
            *(("--seccomp", str(seccomp_fd)) if seccomp_fd is not None else ()),
            *("--chdir", JOB, "--"),
            *(SETPRIV, "--reuid", uid, "--regid", uid, "--clear-groups", "--no-new-privs"),
            *("--inh-caps=-all", "--bounding-set=-all"),
            *limiter,
            JOB_SOURCE,
            *program,
        ]
        return group.joined(command) if group else command


SETPRIV = "/usr/bin/setpriv"
MOUNTED = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")}  # made before the binds

# Runs first inside the sandbox, as the run's uid: copies the program into the private folder
# (a sized tmpfs: a disk fill ends there), sets the limits, then becomes the program (exec
# keeps the limits). Not a preexec_fn, which is unsafe in a server with threads.
LIMITER = (
    "import os, resource, shutil, sys\n"
    "memory, cpu, processes, size = map(int, sys.argv[1:5])\n"
    "if sys.argv[5] != '-':\n"
    "    for name in os.listdir(sys.argv[5]):\n"
    "        path = os.path.join(sys.argv[5], name)\n"
    "        (shutil.copytree if os.path.isdir(path) else shutil.copy)(path, name)\n"
    "resource.setrlimit(resource.RLIMIT_AS, (memory, memory))\n"
    "resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))\n"
    "resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))\n"
    "resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[6:]])\n"
)


def _usr_links() -> list[str]:
    """Debian's merged /usr: /bin, /lib, /lib64, /sbin are links into it."""
    arguments = []
    for name in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    return arguments


def _read_only(paths: tuple[Path, ...]) -> list[str]:
    """Read-only binds of ``paths``, their parent folders made traversable (bubblewrap makes
    them 0700, which the run's uid could not enter)."""
    arguments: list[str] = []
    made: set[Path] = set()
    for path in paths:
        for parent in reversed(path.parents):
            if parent not in made and parent not in MOUNTED and not parent.is_relative_to("/usr"):
                arguments += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        arguments += ["--ro-bind", str(path), str(path)]
    return arguments


def python_paths() -> tuple[Path, ...]:
    """What a run's Python must read: the interpreter's installation, the venv, every folder
    on the import path, and the folders an editable install's links point into (but not the
    rest of the machine)."""
    wanted = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for entry in sys.path:
        path = Path(entry)
        if not entry or not path.is_dir():
            continue
        wanted.add(path.resolve())
        if "site-packages" not in path.parts and "__editable__" in path.name:
            for root, folders, files in os.walk(path):
                for name in (*folders, *files):
                    link = Path(root) / name
                    if link.is_symlink():
                        wanted.add(link.resolve().parent)
    ordered = sorted(wanted, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in ordered:  # a folder inside one already bound comes with it
        if not any(path.is_relative_to(k) for k in kept) and not path.is_relative_to("/usr"):
            kept.append(path)
    return tuple(sorted(kept))


def find_sandbox() -> tuple[Sandbox | None, str]:
    """bubblewrap, if it is installed and a trial run in it works here; otherwise None and
    why not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
    if os.geteuid() != 0:
        return None, "the sandbox switches to a run's own uid, which needs the server to be root"
    if not Path(SETPRIV).exists():
        return None, f"{SETPRIV} (util-linux) is missing"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True, check=False)
    number = version.stdout.split()[-1] if version.stdout else ""
    program, why_not = keyring_filter()
    if not program:
        return None, why_not
    sandbox = Sandbox(bwrap, number, python_paths(), seccomp=program)
    with tempfile.TemporaryDirectory(prefix="toreador-trial-") as temporary:
        folder = Path(temporary)
        (folder / "trial.py").write_text("print('ok')\n", encoding="utf-8")
        result = run_limited(["trial.py"], folder, Limits(seconds=30), sandbox, slot=0)
    if result.stdout != "ok\n":
        return None, f"bubblewrap is installed but a trial run failed: {result.stderr.strip()}"
    return sandbox, ""


def with_run_groups(sandbox: Sandbox, slots: int, limits: Limits) -> Sandbox:
    """``sandbox`` with a control group per run slot holding each run, all its processes
    together, to ``limits``, where the machine allows them (removed by ``remove_groups``
    when the server stops)."""
    groups = run_groups(slots, limits.memory_bytes, limits.processes)
    return dataclasses.replace(sandbox, groups=groups)


def run_limited(
    program: list[str], folder: Path, limits: Limits, sandbox: Sandbox, slot: int = 0
) -> SandboxResult:
    """Run ``python program...`` (a script in ``folder`` and its arguments) under ``limits``,
    in ``sandbox`` as slot ``slot``'s uid. Output past the cap stops the run."""
    if sandbox.bwrap is not None:
        uid = FIRST_UID + slot
        for path in (folder, *folder.rglob("*")):  # readable by the run's uid only
            os.chown(path, uid, uid)
        folder.chmod(0o700)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "TOREADOR_PROGRESS": "0",
    }
    group = sandbox.groups[slot] if sandbox.groups else None
    kills = group.memory_kills() if group else 0
    started = time.monotonic()
    with filter_descriptor(sandbox.seccomp if sandbox.bwrap else b"") as seccomp_fd:
        process = subprocess.Popen(
            sandbox.command(folder, program, slot, limits, seccomp_fd),
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: killed whole at the end
            pass_fds=() if seccomp_fd is None else (seccomp_fd,),
        )
    over = threading.Event()
    assert process.stdout is not None and process.stderr is not None
    readers = [
        _Capped(process.stdout, limits.output_bytes, over),
        _Capped(process.stderr, limits.output_bytes, over),
    ]
    deadline = started + limits.seconds
    timed_out = False
    while process.poll() is None:
        if over.is_set():
            break
        if time.monotonic() > deadline:
            timed_out = True
            break
        over.wait(0.02)
    _kill_group(process.pid)  # the end of the run, or a limit: the whole group goes
    process.wait()
    for reader in readers:
        reader.join()
    stdout, stderr = (reader.text() for reader in readers)
    return SandboxResult(
        stdout,
        stderr,
        process.returncode,
        time.monotonic() - started,
        timed_out,
        over.is_set(),
        group is not None and group.memory_kills() > kills,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


class _Capped(threading.Thread):
    """Reads a pipe to its end, keeping at most ``cap`` bytes; past it, sets ``over``."""

    def __init__(self, pipe: object, cap: int, over: threading.Event) -> None:
        super().__init__(daemon=True)
        self.pipe, self.cap, self.over = pipe, cap, over
        self.kept = bytearray()
        self.start()

    def run(self) -> None:
        read = self.pipe.read1  # type: ignore[attr-defined]
        while chunk := read(65536):
            room = self.cap - len(self.kept)
            self.kept += chunk[:room]
            if len(chunk) > room:
                self.over.set()
        self.pipe.close()  # type: ignore[attr-defined]

    def text(self) -> str:
        return bytes(self.kept).decode("utf-8", "replace")
