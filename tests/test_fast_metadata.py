"""The compiler's faster positions and expression contexts equal libcst's own, on real
modules (this project's, the test corpus's) and on generated ones."""

from __future__ import annotations

from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from libcst.metadata import (
    ExpressionContextProvider,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from toreador.compiler.fast_metadata import (
    FastPositionProvider,
    children,
    expression_contexts,
    resolve,
)

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    path for folder in ("compiler", "runtime") for path in (ROOT / folder).rglob("*.py")
)


def described(scope: Scope | None) -> object:
    """A scope as what it binds and reads (two runs make different scope objects)."""
    if scope is None:
        return None
    return (
        type(scope).__name__,
        sorted((a.name, type(a.node).__name__) for a in scope.assignments),
        sorted(
            (a.node.value if isinstance(a.node, cst.Name) else type(a.node).__name__)
            for a in scope.accesses
        ),
    )


def assert_same(module: cst.Module, every_node: bool = True) -> None:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    assert dict(wrapper.resolve(FastPositionProvider)) == dict(wrapper.resolve(PositionProvider))
    contexts = dict(wrapper.resolve(ExpressionContextProvider))
    assert dict(expression_contexts(module)) == contexts
    positions, scopes = resolve(MetadataWrapper(module, unsafe_skip_copy=True))
    assert dict(positions) == dict(wrapper.resolve(PositionProvider))
    theirs = wrapper.resolve(ScopeProvider)
    # (libcst also gives scopes to nodes it parses from strings: annotations, __all__;
    # each run parses its own)
    own = {node for node in theirs if node in positions or node is module}
    assert {node for node in scopes if node in positions or node is module} == own
    pairs = {(id(scopes[node]), id(theirs[node])): (scopes[node], theirs[node]) for node in own}
    for mine, libcsts in pairs.values():
        assert described(mine) == described(libcsts)
    for node in wrapper.resolve(PositionProvider) if every_node else ():
        assert {id(child) for child in node.children} == {id(child) for child in children(node)}


def test_the_projects_own_modules() -> None:
    assert len(MODULES) > 40
    for path in MODULES:
        # children are compared on the smaller modules below: libcst's own are slow to list
        assert_same(cst.parse_module(path.read_text(encoding="utf-8")), every_node=False)


def test_every_rule_of_the_contexts() -> None:
    source = (
        "import a.b as c\n"
        "from d import e as f\n"
        "x, [y, *z] = w[i:j, k] = v.u\n"
        "n: int = m\n"
        "o += p\n"
        "if (q := r):\n"
        "    del s[t], s.t, s\n"
        "for g, h in ((1, 2),):\n"
        "    pass\n"
        "else:\n"
        "    pass\n"
        "l = [aa for bb, cc in dd if ee for ff in bb]\n"
        "@deco(gg)\n"
        "class K(Base, metaclass=M):\n"
        "    @staticmethod\n"
        "    def fn(hh: int = ii, *jj, kk, **ll) -> mm:\n"
        "        with nn as (oo, pp):\n"
        "            return lambda qq=rr: qq\n"
        "try:\n"
        "    pass\n"
        "except E as ss:\n"
        "    pass\n"
    )
    assert_same(cst.parse_module(source))


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=hypothesmith.from_node())
def test_generated_modules(program: str) -> None:
    assert_same(cst.parse_module(program))
