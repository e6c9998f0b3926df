"""The state of the main program's process that a kernel may read, carried to workers that
did not fork from it.

A local worker is forked from the main program, so it has whatever the program's module-level
code did to the process. Hadoop's tasks, Spark's executors and docker's containers start fresh
interpreters: they would run a kernel with 28 decimal digits after the program asked for 40,
with the default recursion limit, without the program's environment variables, warning
filters, locale or logging levels. So a region's job carries a ``ProcessState`` taken in the
main program when the region is called, and a worker sets it before the kernel runs: the
command line, the environment and the program's own ``sys.path`` entries before the job is
unpickled (its shared module may read them at import), the rest after.

What does not cross (and why) is listed in ``LOCAL_VARIABLES``; what cannot be set in a worker
(a locale the worker's system lacks, a folder it does not have) is said on the program's
stderr by ``unmet``, never dropped silently.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# sys.path as the runtime found it: what the program's own code adds later is what travels
BASE_PATH = tuple(sys.path)
# the generated folder (this package's parent; a zip on Spark's executors): a folder the
# program adds inside it travels as a path relative to it, since each worker has its copy
PROGRAM_FOLDER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Variables that describe this machine's session or an engine's own set-up, not the program:
# a worker keeps its own (a container's PATH and HOME, a Spark executor's SPARK_HOME).
LOCAL_VARIABLES = frozenset(
    {
        "PATH", "HOME", "PWD", "OLDPWD", "SHELL", "SHLVL", "TERM", "HOSTNAME", "USER",
        "LOGNAME", "MAIL", "TMPDIR", "TEMP", "TMP", "DISPLAY", "VIRTUAL_ENV", "_",
        "LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
        "PYTHONEXECUTABLE", "PYTHONSAFEPATH", "JAVA_HOME", "CLASSPATH",
    }
)  # fmt: skip
LOCAL_PREFIXES = (
    "SPARK_", "PYSPARK_", "HADOOP_", "YARN_", "MAPRED_", "HDFS_", "DOCKER_", "TOREADOR_",
    "SSH_", "XDG_", "CONDA_", "KUBERNETES_",
)  # fmt: skip

_LOCALE_CATEGORIES = (
    "LC_CTYPE", "LC_COLLATE", "LC_TIME", "LC_MONETARY", "LC_NUMERIC", "LC_MESSAGES",
)  # fmt: skip


def travels(name: str) -> bool:
    """Whether the environment variable ``name`` is sent to workers."""
    return name not in LOCAL_VARIABLES and not name.startswith(LOCAL_PREFIXES)


@dataclass(frozen=True)
class LoggerLevels:
    """A logger's own settings (its handlers stay in the main program: see ``output``)."""

    level: int
    propagate: bool
    disabled: bool


@dataclass(frozen=True)
class ProcessState:
    """What a worker sets before a region's kernel runs (see the module's docstring)."""

    argv: tuple[str, ...]
    environ: tuple[tuple[str, str], ...]
    # entries the program added to sys.path, in order: ("program", path relative to the
    # generated folder) or ("absolute", path)
    path: tuple[tuple[str, str], ...]
    recursion_limit: int
    int_max_str_digits: int
    decimal_context: Any = None  # decimal.Context, when the program imported decimal
    # each pickled on its own: a filter for a category of a module the worker lacks is left
    warning_filters: tuple[bytes, ...] | None = None
    locale: tuple[tuple[str, str], ...] = ()
    loggers: tuple[tuple[str, LoggerLevels], ...] = ()
    logging_disable: int = 0
    numpy_print: bytes = b""  # pickled: a formatter may not load in a worker
    numpy_errors: tuple[tuple[str, str], ...] = ()
    socket_timeout: float | None = None

    @classmethod
    def capture(cls) -> ProcessState:
        """The main program's state now (cheap: a region call takes it)."""
        modules = sys.modules
        state = cls(
            argv=tuple(sys.argv),
            environ=tuple(sorted((k, v) for k, v in os.environ.items() if travels(k))),
            path=tuple(
                _path_entry(entry)
                for entry in sys.path
                if entry and entry not in BASE_PATH
            ),
            recursion_limit=sys.getrecursionlimit(),
            int_max_str_digits=sys.get_int_max_str_digits(),
            decimal_context=_decimal_context() if "decimal" in modules else None,
            warning_filters=_pickled_each(warnings.filters),
            locale=_locale() if "locale" in modules else (),
            loggers=_logger_levels() if "logging" in modules else (),
            logging_disable=modules["logging"].root.manager.disable
            if "logging" in modules
            else 0,
            numpy_print=_numpy_print() if "numpy" in modules else b"",
            numpy_errors=_numpy_errors() if "numpy" in modules else (),
            socket_timeout=modules["socket"].getdefaulttimeout()
            if "socket" in modules
            else None,
        )
        return state

    def apply_before_load(self) -> None:
        """The command line, environment and paths: set before the job is unpickled, since
        unpickling imports the program's shared module, whose module-level code may read
        them (``N = len(sys.argv)``, ``SCALE = os.environ["SCALE"]``, ``import helper``)."""
        sys.argv[:] = self.argv
        _set_environment(dict(self.environ))
        missing = []
        in_archive = os.path.isfile(PROGRAM_FOLDER)  # zipimport finds a folder in it
        for kind, path in reversed(self.path):
            entry = os.path.join(PROGRAM_FOLDER, path) if kind == "program" else path
            if entry in sys.path:
                continue
            if (kind == "program" and in_archive) or os.path.exists(entry):
                sys.path.insert(0, entry)
            else:
                missing.append(entry)
        if missing:
            _unmet(
                "the main program added to sys.path what this worker does not have: "
                + ", ".join(missing)
            )

    def apply_after_load(self) -> None:
        """The settings a kernel reads when it runs, once the job's modules are imported."""
        if sys.getrecursionlimit() != self.recursion_limit:
            sys.setrecursionlimit(self.recursion_limit)
        if sys.get_int_max_str_digits() != self.int_max_str_digits:
            sys.set_int_max_str_digits(self.int_max_str_digits)
        if self.decimal_context is not None:
            import decimal

            decimal.setcontext(self.decimal_context.copy())
        if self.warning_filters is not None:
            # the list object the C module holds too: replaced in place, never rebound
            filters: list[Any] = warnings.filters  # type: ignore[assignment]
            filters[:] = _loaded_each(self.warning_filters)
            warnings._filters_mutated()  # type: ignore[attr-defined]  # as filterwarnings does
        if self.locale:
            _set_locale(self.locale)
        if self.loggers or self.logging_disable or _SET_LOGGERS:
            _set_logger_levels(self.loggers, self.logging_disable)
        if (self.numpy_print or self.numpy_errors) and "numpy" in sys.modules:
            numpy = sys.modules["numpy"]
            if self.numpy_print:
                with contextlib.suppress(Exception):  # its formatter, say, is not here
                    numpy.set_printoptions(**pickle.loads(self.numpy_print))
            numpy.seterr(**dict(self.numpy_errors))
        if self.socket_timeout is not None:
            import socket

            socket.setdefaulttimeout(self.socket_timeout)


# -- the worker's side ----------------------------------------------------------------------
_APPLIED: list[bytes] = [b""]  # the pickled state this process has now
_SET_VARIABLES: set[str] = set()  # environment variables a state set here
_SET_LOGGERS: set[str] = set()
_UNMET: list[str] = []


def pickled_state() -> bytes:
    """The main program's state now, as a region's job carries it."""
    return pickle.dumps(ProcessState.capture(), pickle.HIGHEST_PROTOCOL)


def apply_before_load(pickled: bytes) -> ProcessState | None:
    """Set the first part of a pickled state (see ``ProcessState.apply_before_load``);
    None if this process has that state already."""
    if pickled == _APPLIED[0]:
        return None
    try:
        state: ProcessState = pickle.loads(pickled)
    except Exception as error:  # never the kernel's failure: said, and the items run
        _unmet(f"the main program's process state cannot be loaded here: {error!r}")
        return None
    state.apply_before_load()
    return state


def apply_after_load(pickled: bytes, state: ProcessState | None) -> None:
    if state is not None:
        state.apply_after_load()
        _APPLIED[0] = pickled


def apply(pickled: bytes) -> None:
    """All of a pickled state, where the job is loaded already (a worker serving several
    regions, each with the state of its own call)."""
    apply_after_load(pickled, apply_before_load(pickled))


def unmet() -> str:
    """What a worker could not set since the last call, as lines for the program's stderr."""
    if not _UNMET:
        return ""
    text = "".join(f"toreador: {line}\n" for line in _UNMET)
    _UNMET.clear()
    return text


def _unmet(text: str) -> None:
    if text not in _UNMET:
        _UNMET.append(text)


def _set_environment(wanted: dict[str, str]) -> None:
    for name in _SET_VARIABLES - wanted.keys():  # set by an earlier region's state only
        os.environ.pop(name, None)
    _SET_VARIABLES.clear()
    timezone = os.environ.get("TZ")
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
        _SET_VARIABLES.add(name)
    if os.environ.get("TZ") != timezone:
        import time

        time.tzset()


# -- the pieces of a state ------------------------------------------------------------------
def _pickled_each(values: Any) -> tuple[bytes, ...]:
    """Each of ``values`` that pickles, pickled on its own."""
    kept = []
    for value in values:
        try:
            kept.append(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        except Exception:
            continue
    return tuple(kept)


def _loaded_each(pickled: tuple[bytes, ...]) -> list[Any]:
    """Each value of ``_pickled_each`` that loads here (a warning filter for a category of
    a library the worker lacks matches no warning it can raise)."""
    loaded = []
    for value in pickled:
        try:
            loaded.append(pickle.loads(value))
        except Exception:
            continue
    return loaded


def module_folders(folder: Path) -> list[Path]:
    """The folders of the generated ``folder`` that hold modules: the runtime, the program's
    packages, and a folder the program adds to sys.path (which a worker reaches as
    ``PROGRAM_FOLDER``/its name, in the archive an engine ships)."""
    return [
        path
        for path in sorted(folder.iterdir())
        if path.is_dir() and path.name != "__pycache__" and any(path.rglob("*.py"))
    ]


def _path_entry(entry: str) -> tuple[str, str]:
    absolute = os.path.abspath(entry)
    if absolute.startswith(PROGRAM_FOLDER + os.sep):
        return ("program", os.path.relpath(absolute, PROGRAM_FOLDER))
    return ("absolute", entry)


def _decimal_context() -> Any:
    import decimal

    context = decimal.getcontext().copy()
    context.clear_flags()
    return context


def _locale() -> tuple[tuple[str, str], ...]:
    import locale

    found = []
    for name in _LOCALE_CATEGORIES:
        category = getattr(locale, name, None)
        if category is not None:
            found.append((name, locale.setlocale(category)))
    return tuple(found)


def _set_locale(wanted: tuple[tuple[str, str], ...]) -> None:
    import locale

    for name, value in wanted:
        category = getattr(locale, name, None)
        if category is None or locale.setlocale(category) == value:
            continue
        try:
            locale.setlocale(category, value)
        except locale.Error:
            _unmet(
                f"the main program's locale {value!r} ({name}) is not available in this "
                f"worker: its kernels run with {locale.setlocale(category)!r}"
            )


def _logger_levels() -> tuple[tuple[str, LoggerLevels], ...]:
    import logging

    default = LoggerLevels(logging.NOTSET, True, False)
    found = [("", LoggerLevels(logging.root.level, True, logging.root.disabled))]
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            levels = LoggerLevels(logger.level, logger.propagate, logger.disabled)
            if levels != default:
                found.append((name, levels))
    return tuple(found)


def _set_logger_levels(
    wanted: tuple[tuple[str, LoggerLevels], ...], disable: int
) -> None:
    import logging

    names = {name for name, _ in wanted}
    for name in _SET_LOGGERS - names:  # an earlier state's: back to the defaults
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.propagate, logger.disabled = True, False
    _SET_LOGGERS.clear()
    for name, levels in wanted:
        logger = logging.getLogger(name or None)
        if logger.level != levels.level:
            logger.setLevel(levels.level)
        logger.propagate, logger.disabled = levels.propagate, levels.disabled
        if name:
            _SET_LOGGERS.add(name)
    if logging.root.manager.disable != disable:
        logging.disable(disable)


def _numpy_print() -> bytes:
    try:
        return pickle.dumps(
            sys.modules["numpy"].get_printoptions(), pickle.HIGHEST_PROTOCOL
        )
    except Exception:  # a formatter of the main script's own: the rest still counts
        options = dict(sys.modules["numpy"].get_printoptions())
        options.pop("formatter", None)
        return pickle.dumps(options, pickle.HIGHEST_PROTOCOL)


def _numpy_errors() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(sys.modules["numpy"].geterr().items()))
