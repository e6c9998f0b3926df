"""``suggest --profile``: the program run once, each suggested region measured, and the
ones too small to pay for workers taken back, by the engine's own rule.

The rule is the local engine's (``toreador.runtime.placement``): workers pay when
``start + items x cost / workers < 0.8 x items x cost``, where ``start`` is what forking
costs on this machine (measured here) for a region called once, and a kept worker set's
per-region cost for a region called again and again (its workers outlive each call).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst

from toreador.runtime.placement import KEPT_START_SECONDS, Costs

from ..diagnostics import CompileError, Diagnostic
from .rewrite import rewrite
from .verdicts import Suggestion, Verdict


@dataclass(frozen=True)
class Measured:
    """One suggested region's calls in the profiled run."""

    calls: int
    items: int
    seconds: float
    largest: int  # items of its largest call

    def pays(self, fork: float, workers: int) -> bool:
        if self.calls == 0 or self.items == 0:
            return True  # not reached: nothing says it is small
        per_item = self.seconds / self.items
        start = fork if self.calls == 1 else max(KEPT_START_SECONDS, fork / self.calls)
        return Costs(start, workers).workers_pay(self.largest, per_item, 0.0)


def fork_seconds(times: int = 5) -> float:
    """What forking a worker and waiting for it costs here (median of ``times``)."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def profiled(
    suggestion: Suggestion, module: cst.Module, program: Path, arguments: list[str]
) -> Suggestion:
    """``suggestion`` with the regions the run shows too small made sequential again."""
    calls = _run(suggestion.text, program, arguments)
    fork, workers = fork_seconds(), len(os.sched_getaffinity(0))
    lines = suggestion.text.splitlines()
    verdicts: list[Verdict] = []
    for verdict in suggestion.verdicts:
        replacement = verdict.candidate.replacement
        if verdict.primitive is None or replacement is None:
            verdicts.append(verdict)
            continue
        call = replacement.call().splitlines()[0]
        where = {n for n, line in enumerate(lines, 1) if call in line}
        found = [c for c in calls if c["line"] in where]
        measured = Measured(
            len(found),
            int(sum(c["items"] for c in found)),
            sum(c["seconds"] for c in found),
            int(max((c["items"] for c in found), default=0)),
        )
        verdicts.append(_judged(verdict, measured, fork, workers))
    kept = [v.candidate for v in verdicts if v.primitive]
    return Suggestion(tuple(verdicts), rewrite(module, kept))


def _judged(verdict: Verdict, measured: Measured, fork: float, workers: int) -> Verdict:
    if measured.calls == 0:
        return replace(verdict, reason=f"{verdict.reason} (not reached in the profiled run)")
    numbers = (
        f"measured: {measured.calls} call{'s' * (measured.calls != 1)}, {measured.items} "
        f"items, {measured.seconds * 1000:.1f} ms of kernel time"
    )
    if measured.pays(fork, workers):
        return replace(verdict, reason=f"{verdict.reason} ({numbers})")
    return replace(
        verdict,
        primitive=None,
        reason=(
            f"too small to pay for workers ({numbers}; starting workers costs about "
            f"{fork * 1000:.1f} ms here): the engine would run it in place"
        ),
    )


def _run(text: str, program: Path, arguments: list[str]) -> list[dict[str, float]]:
    """The region calls of one run of ``text`` as ``program`` with ``arguments``."""
    with tempfile.TemporaryDirectory(prefix="toreador-profile-") as folder:
        annotated, record = Path(folder) / "annotated.py", Path(folder) / "calls.json"
        annotated.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "toreador.compiler.suggest.profile_run", str(record),
             str(program.resolve()), str(annotated), *arguments],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not record.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            message = f"the profiled run exited with status {done.returncode}: {tail}"
            raise CompileError([Diagnostic(str(program), 1, 1, "error", message)])
        calls: list[dict[str, float]] = json.loads(record.read_text(encoding="utf-8"))
        return calls
