"""The system calls a sandboxed run may not make: the kernel keyring's.

Every other thing a run can write is private to it (its folder, ``/tmp`` and ``/dev/shm`` are
its own tmpfs mounts; SysV IPC and POSIX message queues live in its own ipc namespace;
abstract sockets in its own network namespace; its processes die with its pid namespace).
The kernel's keyrings are not: a uid's user keyring outlives the process that wrote it, and a
run slot reuses one uid, so a key one run added could be read by a later, unrelated run of
the same slot. Python programs have no use for keyrings, so ``add_key``, ``request_key`` and
``keyctl`` fail with EPERM. The filter is built by libseccomp (through pyseccomp) and handed
to bubblewrap (``--seccomp FD``); on a machine where it cannot be built, runs are refused
rather than run without it. A 32-bit or x32 system call from a 64-bit process kills it
(libseccomp's default for another architecture).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
from collections.abc import Iterator

BLOCKED = ("add_key", "request_key", "keyctl")


def keyring_filter() -> tuple[bytes, str]:
    """The BPF program (empty, and why, when it cannot be built here)."""
    try:
        import pyseccomp as seccomp  # type: ignore[import-untyped]  # loads libseccomp.so.2
    except (ImportError, OSError) as error:
        return b"", f"no seccomp filter can be built here (pyseccomp, libseccomp): {error}"
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in BLOCKED:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    try:
        with os.fdopen(os.memfd_create("toreador-bpf", os.MFD_CLOEXEC), "w+b") as out:
            rules.export_bpf(out)
            out.seek(0)
            return out.read(), ""
    except OSError as error:
        return b"", f"the seccomp filter could not be exported: {error}"


@contextlib.contextmanager
def filter_descriptor(program: bytes) -> Iterator[int | None]:
    """A file descriptor holding ``program`` from its start, for bubblewrap to read (None
    when there is no program), closed afterwards."""
    if not program:
        yield None
        return
    descriptor = os.memfd_create("toreador-seccomp", os.MFD_CLOEXEC)
    try:
        with io.FileIO(descriptor, "wb", closefd=False) as out:
            out.write(program)
        os.lseek(descriptor, 0, os.SEEK_SET)
        yield descriptor
    finally:
        os.close(descriptor)
