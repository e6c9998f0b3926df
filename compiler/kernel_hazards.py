"""What the code kernels run may use that a worker cannot give it as the sequential run did.

- A module's global random state: a sequential program that seeds ``random`` (or
  ``numpy.random``) once draws one stream of numbers in item order; parallel workers each
  draw from their own copy of that state, so the numbers differ from the reference's and from
  run to run.
- Standard input: workers have none (``input()``, ``sys.stdin``).
- A module-level iterator (``ids = itertools.count()``, a generator) that kernels advance
  with ``next``: each worker advances its own copy.
- The module's identity: moved code runs in the shared module, so ``__file__``, ``__spec__``
  and the like name that module, not the source. (``__name__`` is not one of them: the
  transformation writes the program's own, ``"__main__"``, where moved code reads it, since
  ``logging.getLogger(__name__)`` is how a script names its logger.)

None of these can be reproduced faithfully, so the compiler says where they happen and what
to write instead. Read-only, like the rest of the analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import Assignment, GlobalScope

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


STDIN = frozenset({"builtins.input", "sys.stdin"})
MODULE_IDENTITY = frozenset({"__file__", "__spec__", "__loader__", "__package__"})


@dataclass(frozen=True)
class Hazard:
    """One use: the node, what kind of hazard (random, stdin, identity, iterator), the name
    it reaches."""

    node: cst.CSTNode
    kind: str
    name: str


def program_name_reads(nodes: Iterable[cst.CSTNode], index: ScopeIndex) -> list[cst.Name]:
    """The reads of the module's ``__name__`` in ``nodes``: moved into the shared module,
    each becomes the program's own name (see the module's docstring)."""
    return [
        node
        for root in nodes
        for node in walk(root)
        if isinstance(node, cst.Name)
        and node.value == "__name__"
        and index.access_of.get(node) is not None
    ]


def global_random_name(qualified: str) -> bool:
    """Whether a qualified name is a function that uses a module's hidden random state."""
    module, _, function = qualified.rpartition(".")
    if module == "random":
        return function in RANDOM_FUNCTIONS
    if module == "numpy.random":
        return function not in NUMPY_EXPLICIT and not function.startswith("_")
    return False


def hazards(nodes: Iterable[cst.CSTNode], index: ScopeIndex) -> list[Hazard]:
    """The uses in ``nodes`` (and below them), each reported once, in source order."""
    found: dict[int, Hazard] = {}
    for root in nodes:
        for node in walk(root):
            # (the `random` of `x.random` is no access of its own: it is never matched)
            if not isinstance(node, cst.Name | cst.Attribute | cst.Call):
                continue
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Name)
                and node.func.value == "next"
                and node.args
                and isinstance(node.args[0].value, cst.Name)
                and _global_binding(index, node.args[0].value)
            ):
                iterator = node.args[0].value
                found.setdefault(id(iterator), Hazard(iterator, "iterator", iterator.value))
                continue
            if isinstance(node, cst.Name) and node.value in MODULE_IDENTITY:
                if index.access_of.get(node) is not None:
                    found.setdefault(id(node), Hazard(node, "identity", node.value))
                continue
            base: cst.BaseExpression = node
            while isinstance(base, cst.Attribute):
                base = base.value
            access = index.access_of.get(base) if isinstance(base, cst.Name) else None
            if access is None:
                continue
            for qualified in access.scope.get_qualified_names_for(node):
                if global_random_name(qualified.name):
                    found.setdefault(id(node), Hazard(node, "random", qualified.name))
                elif qualified.name in STDIN:
                    found.setdefault(id(node), Hazard(node, "stdin", qualified.name))
    return sorted(found.values(), key=lambda use: index.position(use.node))


def _global_binding(index: ScopeIndex, name: cst.Name) -> bool:
    """Whether ``name`` reads a module-level variable (not a parameter, a local, a builtin)."""
    access = index.access_of.get(name)
    return access is not None and any(
        isinstance(referent, Assignment) and isinstance(referent.scope, GlobalScope)
        for referent in access.referents
    )
