"""The main program's process state, taken in one interpreter and set in a fresh one, as a
hadoop task, a Spark executor or a docker container does (runtime/process_state.py). The
corpus program loan_schedules.py checks the same end to end on every target."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

from toreador.runtime import process_state
from toreador.runtime.process_state import ProcessState

MAIN = """
import decimal, logging, os, sys, warnings
from toreador.runtime.process_state import pickled_state  # Main.py imports it first
sys.path.insert(0, {extra!r})
import stranger  # a module only this process has: its warning category cannot travel
decimal.getcontext().prec = 40
sys.setrecursionlimit(4321)
os.environ["LOAN_SCALE"] = "3"
os.environ["PATH"] = "/nowhere"
warnings.filterwarnings("ignore", category=stranger.StrangeWarning)
warnings.filterwarnings("error", message="old rate")
logging.getLogger("loans").setLevel(logging.DEBUG)
logging.getLogger("noisy").disabled = True
sys.stdout.buffer.write(pickled_state())
"""

WORKER = """
import decimal, logging, os, pickle, sys, warnings
from toreador.runtime.process_state import apply, unmet
path = os.environ["PATH"]
apply(sys.stdin.buffer.read())
try:
    warnings.warn("old rate table", stacklevel=1)
    strict = "not raised"
except UserWarning:
    strict = "raised"
print(decimal.Decimal(1) / 3)
print(sys.getrecursionlimit(), os.environ["LOAN_SCALE"], os.environ["PATH"] == path)
print(strict, logging.getLogger("loans").level, logging.getLogger("noisy").disabled)
print(sys.argv[1:])
sys.stderr.write(unmet())
"""


def test_a_fresh_interpreter_gets_what_the_program_set(tmp_path: Path) -> None:
    extra = tmp_path / "only-here"
    extra.mkdir()
    (extra / "stranger.py").write_text("class StrangeWarning(UserWarning):\n    pass\n")
    main = subprocess.run(
        [sys.executable, "-c", MAIN.format(extra=str(extra)), "first", "--flag"],
        capture_output=True,
        check=True,
    )
    extra.rename(tmp_path / "gone")  # the worker does not have the program's folder
    worker = subprocess.run(
        [sys.executable, "-c", WORKER],
        input=main.stdout,
        capture_output=True,
        check=True,
    )
    lines = worker.stdout.decode().splitlines()
    assert lines == [
        "0.3333333333333333333333333333333333333333",
        "4321 3 True",  # PATH is the worker's own
        "raised 10 True",
        "['first', '--flag']",
    ]
    # the folder the program added to sys.path is named; the filter for its class is left
    assert f"does not have: {extra}" in worker.stderr.decode()


def test_what_a_worker_cannot_set_is_said_once() -> None:
    state = ProcessState(
        argv=("program.py",),
        environ=(),
        path=(),
        recursion_limit=sys.getrecursionlimit(),
        int_max_str_digits=sys.get_int_max_str_digits(),
        locale=(("LC_TIME", "xx_NOWHERE.UTF-8"),),
    )
    code = textwrap.dedent(
        """
        import pickle, sys
        from toreador.runtime.process_state import apply, unmet
        state = sys.stdin.buffer.read()
        apply(state)
        apply(state)  # the same state again: nothing to do, nothing said twice
        print(unmet(), end="")
        print(repr(unmet()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(state),
        capture_output=True,
        check=True,
    )
    said = done.stdout.decode().splitlines()
    assert said[0].startswith("toreador: the main program's locale 'xx_NOWHERE.UTF-8'")
    assert said[1:] == ["''"]


def test_a_variable_an_earlier_region_set_is_gone_when_the_next_state_lacks_it() -> None:
    code = textwrap.dedent(
        """
        import os, pickle, sys
        from toreador.runtime.process_state import ProcessState, apply
        def state(environ):
            return pickle.dumps(ProcessState(
                argv=("p.py",), environ=environ, path=(),
                recursion_limit=sys.getrecursionlimit(),
                int_max_str_digits=sys.get_int_max_str_digits(),
            ))
        apply(state((("LOAN_SCALE", "3"), ("KEPT", "1"))))
        print(os.environ.get("LOAN_SCALE"), os.environ.get("KEPT"))
        apply(state((("KEPT", "2"),)))
        print(os.environ.get("LOAN_SCALE"), os.environ.get("KEPT"), "HOME" in os.environ)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["3 1", "None 2 True"]


def test_session_and_engine_variables_stay_behind() -> None:
    for name in ("PATH", "HOME", "VIRTUAL_ENV", "SPARK_HOME", "DOCKER_HOST", "TOREADOR_X"):
        assert not process_state.travels(name), name
    for name in ("LOAN_SCALE", "OMP_NUM_THREADS", "TZ", "LANG", "AWS_REGION"):
        assert process_state.travels(name), name
