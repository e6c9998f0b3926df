"""Analysis tables (pyupgrade style): programs it accepts, with what it ships, and programs it
refuses, with the diagnostic's position and message."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest

from toreador.compiler.analysis import analyse_module
from toreador.compiler.diagnostics import CompileError
from toreador.compiler.messages import UndefinedKernel, every_message
from toreador.compiler.source import SourceFile, parse_source, source_from_bytes


def analyse(text: str):  # type: ignore[no-untyped-def]
    source = source_from_bytes(text.encode(), Path("prog.py"), "prog.py")
    return source, analyse_module(source, parse_source(source))


def shipped_names(text: str) -> set[str]:
    return set(analyse(text)[1].moved_names)


ACCEPTED = [
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def f(x): return x\n"
        "data_parallel_region([1], f)\n",
        {"f"},
        ["data_parallel_region"],
        id="from-import",
    ),
    pytest.param(
        "from toreador import data_parallel_region as dpr\ndef f(x): return x\ndpr([1], f)\n",
        {"f"},
        ["data_parallel_region"],
        id="aliased-from-import",
    ),
    pytest.param(
        "import toreador\ndef f(x): return x\ntoreador.producer_consumer([1], f)\n",
        {"f"},
        ["producer_consumer"],
        id="import-module",
    ),
    pytest.param(
        "import toreador as t\ndef f(x): return x\nt.bag_of_task([1], [f])\n",
        {"f"},
        ["bag_of_task"],
        id="aliased-module",
    ),
    pytest.param(
        "import math\nfrom toreador import data_parallel_region\n"
        "K = 2\nJ = K + 1\nUNUSED = 5\n"
        "def helper(x): return math.sqrt(x) * J\n"
        "def f(x): return helper(x)\n"
        "def main(): return data_parallel_region([1], f)\n",
        {"f", "helper", "J", "K"},
        ["data_parallel_region"],
        id="transitive-closure",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def main(): return data_parallel_region([1], later)\n"
        "def later(x): return x\n",
        {"later"},
        ["data_parallel_region"],
        id="kernel-defined-after-use",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "class Item:\n    pass\n"
        "print(data_parallel_region([1], len))\n",
        {"Item"},
        ["data_parallel_region"],
        id="classes-always-shipped-builtin-kernel",
    ),
    pytest.param(
        "from toreador import data_parallel_region, producer_consumer\n"
        "def inner(x): return x\n"
        "def outer(xs): return producer_consumer(xs, inner)\n"
        "data_parallel_region([[1]], outer)\n",
        {"inner", "outer"},
        ["producer_consumer", "data_parallel_region"],
        id="nested-region",
    ),
    pytest.param(
        "import functools\nfrom toreador import data_parallel_region\n"
        "def f(x, y): return x + y\n"
        "def main(k): return data_parallel_region([1], functools.partial(f, k))\n",
        {"f"},
        ["data_parallel_region"],
        id="expression-kernel",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "CACHE = {}\n"
        "def f(x):\n    CACHE[x] = x\n    return x\n"
        "data_parallel_region([1], f)\n",
        {"f", "CACHE"},
        ["data_parallel_region"],
        id="worker-side-cache-is-fine",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "_MODEL = None\n"
        "def load(): return {'k': 3}\n"
        "def f(x):\n    global _MODEL\n    if _MODEL is None:\n        _MODEL = load()\n"
        "    return x * _MODEL['k']\n"
        "data_parallel_region([1], f)\n",
        {"f", "_MODEL", "load"},
        ["data_parallel_region"],
        id="lazily-built-cache-only-kernels-read",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "PARSERS = {}\n"
        "def register(kind):\n    def add(cls):\n        PARSERS[kind] = cls\n"
        "        return cls\n    return add\n"
        "@register('a')\nclass A: pass\n"
        "@register('b')\nclass B: pass\n"
        "def f(x): return PARSERS[x].__name__\n"
        "print(sorted(PARSERS))\n"
        "data_parallel_region(['a'], f)\n",
        {"f", "PARSERS", "register", "A", "B"},
        ["data_parallel_region"],
        id="registry-filled-at-import-by-a-class-decorator",
    ),
]


@pytest.mark.parametrize(("text", "names", "primitives"), ACCEPTED)
def test_accepted(text: str, names: set[str], primitives: list[str]) -> None:
    _, analysis = analyse(text)
    assert set(analysis.moved_names) == names
    assert [r.primitive for r in analysis.regions] == primitives


def test_nested_region_is_marked_inner() -> None:
    _, analysis = analyse(
        "from toreador import data_parallel_region as d\n"
        "def inner(x): return x\n"
        "def outer(xs): return d(xs, inner)\n"
        "d([[1]], outer)\n"
    )
    assert [(r.line, r.nested) for r in analysis.regions] == [(3, True), (4, False)]


def test_lambda_and_nested_function_are_hoisted() -> None:
    _, analysis = analyse(
        "from toreador import data_parallel_region as d\nK = 3\n"
        "def main():\n"
        "    def g(x):\n        return x + K\n"
        "    d([1], lambda x: x * K)\n"
        "    d([1], g)\n"
    )
    assert [h.name for h in analysis.hoisted] == ["lambda_line_6", "g_line_4"]
    assert "K" in analysis.moved_names


def test_analysis_does_not_change_the_tree() -> None:
    text = "from toreador import data_parallel_region as d\ndef f(x): return x\nd([1], f)\n"
    source = source_from_bytes(text.encode(), Path("p.py"), "p.py")
    module = parse_source(source)
    analysis = analyse_module(source, module)
    assert analysis.module.code == text == module.code


REFUSED = [
    pytest.param(
        "from toreador import data_parallel_region\ndata_parallel_region([1], nope)\n",
        (2, 27),
        "undefined kernel 'nope'",
        "TR103",
        id="undefined-kernel",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def main():\n    k = 2\n    return data_parallel_region([1], lambda x: x + k)\n",
        (4, 52),
        "closes over local 'k'",
        "TR104",
        id="lambda-closure-over-local",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def main(k):\n    def g(x):\n        return x + k\n"
        "    return data_parallel_region([1], g)\n",
        (4, 20),
        "nested function that closes over local 'k'",
        "TR104",
        id="nested-closure",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "LIMIT = 1\n"
        "def f(x): return x + LIMIT\n"
        "LIMIT = 2\n"
        "data_parallel_region([1], f)\n",
        (4, 1),
        "global 'LIMIT', which kernels use, is assigned again",
        "TR301",
        id="reassigned-global",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "TOTAL = 0\n"
        "def f(x):\n    global TOTAL\n    TOTAL += x\n    return x\n"
        "data_parallel_region([1], f)\n",
        (4, 12),
        "rebound by a function shipped to workers",
        "TR302",
        id="global-write-in-kernel",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "_MODEL = None\n"
        "def f(x):\n    global _MODEL\n    if _MODEL is None:\n        _MODEL = x\n"
        "    return _MODEL\n"
        "data_parallel_region([1], f)\n",
        (4, 12),
        "rebound by a function shipped to workers",
        "TR302",
        id="cache-built-from-an-item",  # each worker would keep its own first item
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "_MODEL = None\n"
        "def f(x):\n    global _MODEL\n    if _MODEL is None:\n        _MODEL = 3\n"
        "    return x * _MODEL\n"
        "data_parallel_region([1], f)\nprint(_MODEL)\n",
        (4, 12),
        "rebound by a function shipped to workers",
        "TR302",
        id="cache-the-main-program-reads",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "PARSERS = {}\n"
        "def register(kind):\n    def add(cls):\n        PARSERS[kind] = cls\n"
        "        return cls\n    return add\n"
        "@register('a')\nclass A: pass\n"
        "register('b')(int)\n"
        "def f(x): return PARSERS[x].__name__\n"
        "print(sorted(PARSERS))\n"
        "data_parallel_region(['a'], f)\n",
        (5, 9),
        "global 'PARSERS', which kernels use, is changed here",
        "TR303",
        id="registry-also-filled-by-the-main-program",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "SEEN = []\n"
        "def f(x): return x in SEEN\n"
        "SEEN.append(3)\n"
        "data_parallel_region([1], f)\n",
        (4, 1),
        "global 'SEEN', which kernels use, is changed here",
        "TR303",
        id="mutated-global",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def f(x): return x * FACTOR\n"
        "if __name__ == '__main__':\n    FACTOR = 2\n    data_parallel_region([1], f)\n",
        (4, 5),  # at the value's assignment, not the `if`
        'which is set inside `if __name__ == "__main__":`; workers never run that block: '
        "pass the value as a replicated argument",
        "TR202",
        id="set-in-main-guard",
    ),
    pytest.param(
        "import toreador\ndef f(x): return x\nprint(toreador.data_parallel_region([1], f))\n"
        "engine = toreador\n",
        (4, 10),
        "`toreador`: a compiled program has no toreador module",
        "TR105",
        id="the-toreador-module-as-a-value",
    ),
    pytest.param(
        "from toreador import data_parallel_region\nSEEN = []\n"
        "def k(x):\n    SEEN.append(x)\n    return x\n"
        "print(data_parallel_region([1, 2], k))\nprint(SEEN)\n",
        (4, 5),
        "global 'SEEN' is changed in place by code that kernels run; each worker changes its "
        "own copy and the main program never sees it",
        "TR304",
        id="kernel-changes-a-global-main-reads",
    ),
    pytest.param(
        "from toreador import data_parallel_region\n"
        "def scale(x):\n    return x * FACTOR\n"
        "print(data_parallel_region([1, 2], scale))\nFACTOR = 7\n",
        (4, 7),
        "this region runs before the definition at line 5, which its kernel scale needs: the "
        "sequential program stops here with NameError",
        "TR106",
        id="global-defined-after-the-region-runs",
    ),
    pytest.param(
        "from toreador import *\ndata_parallel_region([1], str)\n",
        (1, 1),
        "hides which names are primitives",
        "TR101",
        id="star-import",
    ),
    pytest.param(
        "from toreador import data_parallel_region\nargs = ([1], str)\n"
        "data_parallel_region(*args)\n",
        (3, 1),
        "needs its distr and func as direct arguments",
        "TR102",
        id="starred-args",
    ),
]


@pytest.mark.parametrize(("text", "position", "message", "code"), REFUSED)
def test_refused(text: str, position: tuple[int, int], message: str, code: str) -> None:
    with pytest.raises(CompileError) as raised:
        analyse(text)
    first = raised.value.diagnostics[0]
    assert message in first.message
    assert (first.line, first.column) == position
    assert first.code == code and first.render().splitlines()[0].endswith(f" [{code}]")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CompileError) as raised:
        analyse("from toreador import data_parallel_region as d\nd([1], a)\nd([1], b)\n")
    assert [d.message.split("'")[1] for d in raised.value.diagnostics] == ["a", "b"]


def test_source_positions_render_with_caret() -> None:
    source = SourceFile(Path("p.py"), "p.py", "x = (1,\n  oops here)\n", "0" * 64)
    rendered = source.report(UndefinedKernel("k"), 2, 3).render()
    assert rendered.splitlines() == [
        "p.py:2:3: error: undefined kernel 'k': no function, class or import of that name is "
        "visible here [TR103]",
        "      oops here)",
        "      ^",
    ]
    assert isinstance(parse_source(SourceFile(Path("q.py"), "q.py", "x = 1\n", "")), cst.Module)


def test_conditional_import_blocks_are_copied_not_moved() -> None:
    _, analysis = analyse(
        "from typing import TYPE_CHECKING\nfrom toreador import data_parallel_region as d\n"
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None\n"
        "if TYPE_CHECKING:\n    from decimal import Decimal\n"
        "def f(x: 'Decimal'):\n    return np is None or x\n"
        "d([1], f)\n"
    )
    assert analysis.moved_names == ("f",)
    assert {analysis.module.body[i].__class__.__name__ for i in analysis.copied} >= {"Try"}


PASSED_BY_VALUE = (
    "import functools, sys\nfrom toreador import data_parallel_region\n"
    "K = 3\nLIMITS = frozenset({1, 2})\nARGC = len(sys.argv)\n"
    "def run(kernel): return data_parallel_region([1], kernel)\n"
    "def plain(x): return x * K\n"
    "def with_constant(x): return x in LIMITS\n"
    "def with_argv(x): return x * ARGC\n"
    "def named(x): return __file__\n"
    "@functools.lru_cache\ndef cached(x): return x\n"
    "@register\ndef registered(x): return x\n"
    "def only_called(x): return x\n"
    "run(plain)\nrun(with_constant)\nrun(with_argv)\nrun(named)\nrun(cached)\n"
    "run(registered)\nonly_called(1)\n"
)


def test_functions_passed_as_values_ship_when_nothing_changes_for_main() -> None:
    _, analysis = analyse(PASSED_BY_VALUE)
    shipped = set(analysis.moved_names)
    assert {"plain", "K", "with_constant", "LIMITS", "cached"} <= shipped
    # kept in Main.py: a global computed by code, the module's identity, a decorator that
    # may act at import, and a function never used as a value (nothing can pickle it)
    assert not shipped & {"with_argv", "ARGC", "named", "registered", "only_called", "run"}
    kept = {k.name: (k.line, k.reason) for k in analysis.kept_in_main}
    assert kept == {
        "with_argv": (9, "it needs the global set at line 5 by code that workers would run again"),
        "named": (10, "function 'named' reads `__file__`"),
        "registered": (14, "its decorator may act when the module is imported"),
    }


def test_a_region_in_a_shipped_function_still_runs_from_main() -> None:
    _, analysis = analyse(
        "from toreador import data_parallel_region\n"
        "def work(x): return x\n"
        "def run(kernel): return data_parallel_region([1], kernel)\n"
        "hooks = [run]\nhooks[0](work)\n"
    )
    assert "run" in analysis.moved_names  # used as a value: shipped
    assert [r.nested for r in analysis.regions] == [False]  # not inside a kernel


def test_a_kernel_changing_its_arguments_is_a_located_warning() -> None:
    _, analysis = analyse(
        "from toreador import data_parallel_region\n"
        "def record(x, log):\n    log.append(x)\n    return len(log)\n"
        "def tag(item):\n    item['done'] = True\n    return item\n"
        "def pure(x, log):\n    copy = list(log)\n    copy.append(x)\n    return copy\n"
        "log = []\n"
        "print(data_parallel_region(range(3), record, log), log)\n"
        "print(data_parallel_region([{}], tag), data_parallel_region([1], pure, log))\n"
    )
    found = [(w.line, w.column, w.message.split(";")[0]) for w in analysis.warnings]
    assert found == [
        (3, 5, "kernel 'record' changes its argument 'log' in place"),
        (6, 5, "kernel 'tag' changes its argument 'item' in place"),
    ]


def test_every_diagnostic_has_its_own_code_and_a_line_in_the_user_guide() -> None:
    kinds = every_message()
    codes = [kind.code for kind in kinds]
    assert len(set(codes)) == len(codes) >= 20  # each subclass found, none sharing a code
    assert all(re.fullmatch(r"TR[0-5]\d\d", code) for code in codes), codes
    guide = (Path(__file__).parent.parent / "docs" / "user-guide.md").read_text()
    assert [code for code in codes if code not in guide] == []
