"""One memory limit and one process limit for a run's whole process tree (Linux cgroups v1).

The rlimits a run gets are per process: a program that forks 60 children, each just under
the memory limit, would still take the machine's memory. Where the server may make control
groups (root, with the v1 ``memory`` and ``pids`` hierarchies mounted, as on these
machines), each run slot gets a group under the server's own, and a run's first process
joins it before it becomes the sandbox: everything the run starts is counted together, and
the kernel's OOM killer ends the run (not the server) when the run's total passes the limit.
Elsewhere runs keep the per-process limits only, and the sandbox's description says which.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")


@dataclass(frozen=True)
class RunGroup:
    """A run slot's groups, one per controller (the folders under /sys/fs/cgroup/...)."""

    memory: Path
    pids: Path

    def joined(self, command: list[str]) -> list[str]:
        """``command``, started by a shell that first moves itself into the groups (so no
        process of the run is ever outside them) and then becomes the command."""
        procs = [str(self.memory / "cgroup.procs"), str(self.pids / "cgroup.procs")]
        enter = 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"'
        return ["/bin/sh", "-c", enter, "sh", *procs, *command]

    def memory_kills(self) -> int:
        """How many processes of this group the OOM killer has ended so far."""
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                return int(value)
        return 0


def run_groups(slots: int, memory_bytes: int, processes: int) -> tuple[RunGroup, ...] | None:
    """A group per run slot, limits set; None where groups cannot be made here."""
    if os.geteuid() != 0:
        return None
    bases = {}
    for controller in CONTROLLERS:
        own = _own_group(controller)
        if own is None or not (ROOT / controller / "cgroup.procs").exists():
            return None
        bases[controller] = ROOT / controller / own.lstrip("/") / f"toreador-web-{os.getpid()}"
    groups = []
    try:
        for slot in range(slots):
            memory = bases["memory"] / f"slot-{slot}"
            pids = bases["pids"] / f"slot-{slot}"
            for folder in (memory, pids):
                folder.mkdir(parents=True, exist_ok=True)
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            swap = memory / "memory.memsw.limit_in_bytes"  # no way round the limit by swap
            if swap.exists():
                swap.write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(processes))
            groups.append(RunGroup(memory, pids))
    except OSError:
        remove_groups(tuple(groups))
        return None
    return tuple(groups)


def remove_groups(groups: tuple[RunGroup, ...]) -> None:
    """Remove the (empty) groups, and their parent folder, when the server stops."""
    parents = set()
    for group in groups:
        for folder in (group.memory, group.pids):
            with contextlib.suppress(OSError):
                folder.rmdir()
            parents.add(folder.parent)
    for parent in parents:
        with contextlib.suppress(OSError):
            parent.rmdir()


def _own_group(controller: str) -> str | None:
    """This process's group in a v1 hierarchy (from /proc/self/cgroup)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    return None
