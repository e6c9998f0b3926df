"""Uses of a module's global random state in the code that kernels run.

A sequential program that seeds ``random`` (or ``numpy.random``) once draws one stream of
numbers in item order. Parallel workers each draw from their own copy of that state (forked,
or fresh in another process or machine), so the numbers differ from the reference's, and
from run to run. That cannot be reproduced faithfully, so the compiler says where it happens
and what to write instead. Read-only, like the rest of the analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst

from .scope_index import ScopeIndex, walk

# The functions of the stdlib `random` module that draw from (or reset) its hidden instance.
RANDOM_FUNCTIONS = frozenset(
    {
        "betavariate",
        "binomialvariate",
        "choice",
        "choices",
        "expovariate",
        "gammavariate",
        "gauss",
        "getrandbits",
        "getstate",
        "lognormvariate",
        "normalvariate",
        "paretovariate",
        "randbytes",
        "randint",
        "random",
        "randrange",
        "sample",
        "seed",
        "setstate",
        "shuffle",
        "triangular",
        "uniform",
        "vonmisesvariate",
        "weibullvariate",
    }
)
# numpy.random's own state-free API: everything else in it is the legacy global generator.
NUMPY_EXPLICIT = frozenset(
    {
        "BitGenerator",
        "Generator",
        "MT19937",
        "PCG64",
        "PCG64DXSM",
        "Philox",
        "RandomState",
        "SFC64",
        "SeedSequence",
        "bit_generator",
        "default_rng",
    }
)


@dataclass(frozen=True)
class RandomUse:
    """One use of global random state: the node and the qualified name it reaches."""

    node: cst.CSTNode
    name: str


def global_random_name(qualified: str) -> bool:
    """Whether a qualified name is a function that uses a module's hidden random state."""
    module, _, function = qualified.rpartition(".")
    if module == "random":
        return function in RANDOM_FUNCTIONS
    if module == "numpy.random":
        return function not in NUMPY_EXPLICIT and not function.startswith("_")
    return False


def global_random_uses(nodes: Iterable[cst.CSTNode], index: ScopeIndex) -> list[RandomUse]:
    """The uses in ``nodes`` (and below them), each reported once, in source order."""
    found: dict[int, RandomUse] = {}
    for root in nodes:
        for node in walk(root):
            if not isinstance(node, cst.Name | cst.Attribute):
                continue
            base: cst.BaseExpression = node
            while isinstance(base, cst.Attribute):
                base = base.value
            access = index.access_of.get(base) if isinstance(base, cst.Name) else None
            if access is None:
                continue
            for qualified in access.scope.get_qualified_names_for(node):
                if global_random_name(qualified.name):
                    found.setdefault(id(node), RandomUse(node, qualified.name))
    return sorted(found.values(), key=lambda use: index.position(use.node))
