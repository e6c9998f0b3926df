"""The transformer, as tables of input -> Main.py body and shared module (pyupgrade's style).

Each rewrite case gives a small program and exactly what the transformer makes of it: the
body of Main.py (after its imports) and the shared module's body. No-op cases are programs
the transformer must leave as written. Only the transform's own output is compared; the
templates around it are covered by the golden folders.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from toreador.compiler.analysis import analyse_module
from toreador.compiler.deploy_model import load_model
from toreador.compiler.plan import plan_program
from toreador.compiler.source import parse_source, source_from_bytes
from toreador.compiler.transform import TransformedProgram, transform_program


def transform(text: str) -> TransformedProgram:
    source = source_from_bytes(textwrap.dedent(text).encode(), Path("prog.py"), "prog.py")
    analysis = analyse_module(source, parse_source(source))
    plan = plan_program(source, analysis, "auto", "local", load_model(None))
    return transform_program(analysis, plan)


def main_code(program: TransformedProgram) -> str:
    """Main.py's code from the transform: prologue (header comments, docstring, future
    imports), leading imports, body."""
    return program.main_prologue + program.main_leading_imports + program.main_body


NO_OPS = [
    pytest.param("x = 1\nprint(x)\n", id="no-region"),
    pytest.param(
        "import sys\n\ndef f(x):\n    return x\n\nprint([f(a) for a in sys.argv])\n",
        id="function-called-by-name-stays",
    ),
    pytest.param(
        "def data_parallel_region(xs, f):\n    return [f(x) for x in xs]\n\n"
        "print(data_parallel_region([1], str))\n",
        id="a-function-of-the-same-name-is-not-a-primitive",
    ),
    pytest.param(
        "# a comment\nif True:\n\tx = [1,  2]  # odd spacing\nprint(x)\n",
        id="tabs-and-spacing-kept",
    ),
]


@pytest.mark.parametrize("text", NO_OPS)
def test_a_program_without_regions_is_left_as_written(text: str) -> None:
    program = transform(text)
    assert main_code(program) == text
    assert program.shared_body == ""
    assert not program.uses_runtime


REWRITES = [
    pytest.param(
        """\
        import logging.config
        from toreador import data_parallel_region
        log = logging.getLogger("app")
        def f(x):
            log.info(x)
            return x
        logging.config.dictConfig({"version": 1})
        print(data_parallel_region([1], f))
        """,
        "import logging.config\n"
        'logging.config.dictConfig({"version": 1})\n'
        "print(run_region(REGION_F_LINE_8, [1], f))\n",
        'import logging.config\nlog = logging.getLogger("app")\ndef f(x):\n'
        "    log.info(x)\n    return x\n",
        id="dotted-import-used-by-both",  # `import logging.config` binds `logging`
    ),
    pytest.param(
        """\
        import logging
        from toreador import data_parallel_region
        log = logging.getLogger(__name__)
        def f(x):
            log.info("%s in %s", x, __name__)
            return x
        if __name__ == "__main__":
            print(data_parallel_region([1], f))
        """,
        'if __name__ == "__main__":\n    print(run_region(REGION_F_LINE_8, [1], f))\n',
        'import logging\nlog = logging.getLogger("__main__")\ndef f(x):\n'
        '    log.info("%s in %s", x, "__main__")\n    return x\n',
        id="moved-code-reads-the-program-s-name",
    ),
    pytest.param(
        """\
        from toreador import data_parallel_region
        def f(x):
            return x + 1
        print(data_parallel_region([1, 2], f))
        """,
        "print(run_region(REGION_F_LINE_4, [1, 2], f))\n",
        "def f(x):\n    return x + 1\n",
        id="positional",
    ),
    pytest.param(
        """\
        from toreador import data_parallel_region
        def f(x):
            return x + 1
        print(data_parallel_region(func=f, distr=[1, 2]))
        """,
        "print(run_region(REGION_F_LINE_4, [1, 2], f))\n",
        "def f(x):\n    return x + 1\n",
        id="keywords-in-any-order",
    ),
    pytest.param(
        """\
        from toreador import data_parallel_region
        def f(x, k):
            return x + k
        print(data_parallel_region([1], f, 10))
        """,
        "print(run_region(REGION_F_LINE_4, [1], f, 10))\n",
        "def f(x, k):\n    return x + k\n",
        id="replicated-argument-kept",
    ),
    pytest.param(
        """\
        from toreador import data_parallel_region as dpr
        print(dpr(range(3), lambda x: x * 2))
        """,
        "print(run_region(REGION_DATA_PARALLEL_REGION_LINE_2, range(3), lambda_line_2))\n",
        "def lambda_line_2(x):\n    return x * 2\n",
        id="aliased-import-and-lambda-hoisted",
    ),
    pytest.param(
        """\
        import toreador as t
        def main(n):
            def square(x):
                return x * x
            return t.bag_of_task(range(n), [square])
        print(main(3))
        """,
        "def main(n):\n    def square(x):\n        return x * x\n"
        "    return run_region(REGION_BAG_OF_TASK_LINE_5, range(n), [square_line_3])\n"
        "print(main(3))\n",
        "def square_line_3(x):\n    return x * x\n",
        id="module-import-and-nested-function-hoisted",
    ),
    pytest.param(
        """\
        import math
        from toreador import producer_consumer
        SCALE = 3
        def f(x):
            return math.floor(x * SCALE)
        print(producer_consumer(iter([0.5]), f))
        """,
        "print(run_region(REGION_F_LINE_6, iter([0.5]), f))\n",
        "import math\nSCALE = 3\ndef f(x):\n    return math.floor(x * SCALE)\n",
        id="an-import-only-the-kernel-uses-leaves-main",
    ),
    pytest.param(
        """\
        from toreador import data_parallel_region, PrimitiveUsageError
        run = data_parallel_region
        try:
            run([1], len)
        except PrimitiveUsageError as error:
            print(error)
        """,
        "run = REGION_DATA_PARALLEL_REGION_LINE_2\ntry:\n    run([1], len)\n"
        "except PrimitiveUsageError as error:\n    print(error)\n",
        "",
        id="primitive-as-a-value-and-the-error-class",
    ),
]


@pytest.mark.parametrize(("text", "main", "shared"), REWRITES)
def test_the_transform_rewrites_regions_and_splits_the_program(
    text: str, main: str, shared: str
) -> None:
    program = transform(text)
    assert main_code(program) == main
    assert program.shared_body == shared


def test_docstring_and_future_imports_stay_first_in_both_files() -> None:
    program = transform(
        '"""Doc."""\nfrom __future__ import annotations\n'
        "from toreador import data_parallel_region\n"
        "def f(x):\n    return x\nprint(data_parallel_region([1], f))\n"
    )
    assert program.main_prologue == '"""Doc."""\nfrom __future__ import annotations\n'
    assert program.shared_prologue == "from __future__ import annotations\n"
    assert program.main_body == "print(run_region(REGION_F_LINE_6, [1], f))\n"
    assert program.main_imports == ("REGION_F_LINE_6", "f")


def test_generated_names_avoid_the_programs_own() -> None:
    program = transform(
        "from toreador import data_parallel_region\n"
        "run_region = 'mine'\nlambda_line_3 = 0\n"
        "print(data_parallel_region([1], lambda x: x), run_region, lambda_line_3)\n"
    )
    assert main_code(program).endswith(
        "print(run_region_(REGION_DATA_PARALLEL_REGION_LINE_4, [1], lambda_line_4), "
        "run_region, lambda_line_3)\n"
    )
