"""Deciding each candidate: parallel only when the program, with it made a primitive call,
compiles without a single diagnostic.

The compiler already refuses or warns about every kernel that would not behave as in the
sequential program (a global changed in place, the global random state, standard input, an
argument changed in place, an open file passed along, a definition it cannot ship): a
candidate the compiler says anything about stays sequential, with the compiler's own words
as its reason. A candidate inside another chosen one is left to it (one level is suggested;
the outer one, which holds the most work).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..deploy_model import DeployModel
from ..diagnostics import ToreadorError
from ..pipeline import compile_source
from ..source import SourceFile
from .candidates import Candidate, find_candidates
from .rewrite import rewrite


@dataclass(frozen=True)
class Verdict:
    """A candidate decided: ``primitive`` is None when it stays sequential."""

    candidate: Candidate
    primitive: str | None
    reason: str

    def json(self) -> dict[str, object]:
        return {
            "line": self.candidate.line,
            "col": self.candidate.column,
            "kind": self.candidate.kind,
            "verdict": "parallel" if self.primitive else "sequential",
            "primitive": self.primitive,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Suggestion:
    """Every candidate's verdict, and the program with the parallel ones made primitives."""

    verdicts: tuple[Verdict, ...]
    text: str

    @property
    def changed(self) -> bool:
        return any(v.primitive for v in self.verdicts)


def suggest(source: SourceFile, module: cst.Module) -> Suggestion:
    """The verdicts for ``source`` (parsed as ``module``) and the suggested program."""
    candidates = find_candidates(module)
    spans = _spans(module, candidates)
    verdicts: list[Verdict] = []
    chosen: list[Candidate] = []
    for candidate in candidates:
        outer = next(
            (c for c in chosen if _inside(spans[id(candidate.node)], spans[id(c.node)])), None
        )
        if candidate.replacement is None:
            verdicts.append(Verdict(candidate, None, candidate.reason))
        elif outer is not None:
            reason = f"inside the {outer.kind} at line {outer.line}, suggested as a whole"
            verdicts.append(Verdict(candidate, None, reason))
        else:
            refusal = _refusal(source, module, [*chosen, candidate])
            passed = _passing_globals(candidate, refusal)
            if passed is not None and not _refusal(source, module, [*chosen, passed]):
                candidate, refusal = passed, ""
            if refusal:
                verdicts.append(Verdict(candidate, None, refusal))
            else:
                chosen.append(candidate)
                assert candidate.replacement is not None
                primitive = candidate.replacement.primitive
                verdicts.append(Verdict(candidate, primitive, _why(candidate)))
    return Suggestion(tuple(verdicts), rewrite(module, chosen))


def _passing_globals(candidate: Candidate, refusal: str) -> Candidate | None:
    """A lambda's candidate refused because a global it reads changes in the main program
    (workers would see the value they started with), made to take that global as a
    replicated argument, which carries its value at the call; None when that does not
    apply."""
    found = re.search(r"global '(\w+)'", refusal)
    replacement = candidate.replacement
    if found is None or replacement is None or not replacement.kernel.startswith("lambda "):
        return None
    name = found[1]
    parameters, _, body = replacement.kernel[len("lambda ") :].partition(": ")
    if name in parameters.split(", "):
        return None
    kernel = f"lambda {parameters}, {name}: {body}"
    changed = replace(replacement, kernel=kernel, replicated=(*replacement.replicated, name))
    return replace(candidate, replacement=changed)


def _why(candidate: Candidate) -> str:
    assert candidate.replacement is not None
    if candidate.summed:
        return "independent values, added after the region in the loop's order: a map and a sum"
    if candidate.kind == "calls":
        return "independent calls: none reads another's result: a bag of tasks"
    if candidate.replacement.primitive == "producer_consumer":
        return "independent items read from a stream (a generator, a file): a producer-consumer"
    return "independent items, each computed from its item alone: a map"


def _refusal(source: SourceFile, module: cst.Module, chosen: list[Candidate]) -> str:
    """What the compiler says about the program with ``chosen`` made primitives ("" for
    nothing at all)."""
    text = rewrite(module, chosen)
    trial = replace(source, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    try:
        compiled = compile_source(trial, "auto", "local", DeployModel())
    except ToreadorError as error:
        first = error.diagnostics[0]
        return f"the compiler would refuse it: {_own_words(first.message)} [{first.code}]"
    if compiled.warnings:
        first = compiled.warnings[0]
        return f"the compiler would warn: {_own_words(first.message)} [{first.code}]"
    return ""


def _own_words(message: str) -> str:
    """A diagnostic about the trial program, in terms of the user's: the kernel a lambda
    stands for is the loop's own expression (its line in the trial is not the user's)."""
    return re.sub(r"kernel '<lambda at line \d+>'", "the value computed per item", message)


def _spans(
    module: cst.Module, candidates: tuple[Candidate, ...]
) -> dict[int, tuple[tuple[int, int], tuple[int, int]]]:
    """Each candidate node's start and end (line, column), by the node's id."""
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    spans = {}
    for candidate in candidates:
        where = positions[candidate.node]
        spans[id(candidate.node)] = (
            (where.start.line, where.start.column),
            (where.end.line, where.end.column),
        )
    return spans


def _inside(
    inner: tuple[tuple[int, int], tuple[int, int]], outer: tuple[tuple[int, int], tuple[int, int]]
) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1] and inner != outer
