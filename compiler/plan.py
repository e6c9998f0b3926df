"""Planning: pure, frozen data saying how each region runs (pattern, target, workers)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from toreador import __version__
from toreador.patterns import NATURAL_PATTERN, PATTERNS

from .analysis import ModuleAnalysis
from .deploy_model import DeployModel
from .diagnostics import UsageError, error_at
from .registry import TARGETS
from .source import SourceFile


@dataclass(frozen=True)
class RegionPlan:
    """How one region runs."""

    constant: str
    label: str
    line: int
    column: int
    primitive: str
    kernel: str
    pattern: str
    nested: bool
    workers: int
    max_attempts: int = 4


@dataclass(frozen=True)
class ParallelPlan:
    """Everything the renderer needs besides the analysed tree."""

    source_name: str
    source_sha256: str
    compiler_version: str
    target: str
    shared_module: str
    regions: tuple[RegionPlan, ...]
    model: DeployModel
    # the names generated code binds in the program's modules, unlike any the program uses
    run_name: str = "run_region"
    region_class: str = "Region"
    error_name: str = "PrimitiveUsageError"

    @property
    def patterns(self) -> tuple[str, ...]:
        used = {r.pattern for r in self.regions}
        return tuple(p for p in PATTERNS if p in used)

    def pattern_files(self) -> tuple[str, ...]:
        return tuple(f for p in self.patterns for f in PATTERNS[p].files)


def check_pair(pattern: str, target: str) -> None:
    """Refuse an impossible pattern/target pair, listing what is possible."""
    info = TARGETS[target]
    if pattern != "auto" and pattern not in info.patterns:
        possible = "; ".join(f"{t.name}: {', '.join(t.patterns)}" for t in TARGETS.values())
        raise UsageError(
            [
                error_at(
                    "toreador-compile",
                    f"pattern '{pattern}' cannot run on "
                    f"target '{target}'. Possible pairs: {possible}",
                )
            ]
        )
    if info.module is None:
        raise UsageError(
            [
                error_at(
                    "toreador-compile",
                    f"target '{target}' ({info.summary}) "
                    "is not available in this version of toreador; available: "
                    + ", ".join(n for n, t in TARGETS.items() if t.module),
                )
            ]
        )


def _identifier(text: str) -> str:
    name = re.sub(r"\W+", "_", text).strip("_") or "program"
    return name if not name[0].isdigit() else f"_{name}"


def plan_program(
    source: SourceFile, analysis: ModuleAnalysis, pattern: str, target: str, model: DeployModel
) -> ParallelPlan:
    """Choose a pattern per region (the natural one for ``auto``) and name everything."""
    check_pair(pattern, target)
    allowed = TARGETS[target].patterns
    regions = []
    taken = set(analysis.all_names)  # the global names among them
    for region in analysis.regions:
        chosen = pattern
        if chosen == "auto":
            natural = NATURAL_PATTERN[region.primitive]
            chosen = natural if natural in allowed else allowed[0]
        simple = re.fullmatch(r"[A-Za-z_][\w.]*", region.kernel_name)
        kernel_id = _identifier(region.kernel_name if simple else region.primitive).upper()
        constant = f"REGION_{kernel_id}_LINE_{region.line}"
        while constant in taken:
            constant += "_"
        taken.add(constant)
        regions.append(
            RegionPlan(
                constant=constant,
                label=f"{source.name}:{region.line}",
                line=region.line,
                column=region.column,
                primitive=region.primitive,
                kernel=region.kernel_name,
                pattern=chosen,
                nested=region.nested,
                workers=model.local_workers(),
                max_attempts=model.max_attempts,
            )
        )
    if target == "docker":
        _check_docker_network(regions, model)
    return ParallelPlan(
        source_name=source.name,
        source_sha256=source.sha256,
        compiler_version=__version__,
        target=target,
        shared_module=f"{_identifier(source.path.stem)}_shared",
        regions=tuple(regions),
        model=model,
        run_name=_unused("run_region", taken),
        region_class=_unused("Region", taken),
        error_name=_unused("PrimitiveUsageError", taken - analysis.toreador_bound),
    )


def _check_docker_network(regions: list[RegionPlan], model: DeployModel) -> None:
    """A producer-consumer region on docker feeds its consumers through a Redis queue: a
    model that gives the containers no network leaves them no way to it."""
    queued = [r.label for r in regions if r.pattern == "producer-consumer" and not r.nested]
    if model.docker.network_mode == "none" and queued:
        raise UsageError(
            [
                error_at(
                    "toreador-compile",
                    "deployment model: [docker] network_mode = 'none' leaves the consumer "
                    f"containers of {', '.join(queued)} no way to the Redis queue of the "
                    "producer-consumer pattern; use 'host' or leave it unset",
                )
            ]
        )


def _unused(name: str, taken: set[str]) -> str:
    """``name``, with underscores added until the program uses no such identifier: a
    generated name must neither shadow the program's nor be shadowed by it."""
    while name in taken:
        name += "_"
    return name
