"""What crosses between the main program and a worker, and what is said when it cannot.

Items, kernels and results travel pickled. A module-level function that pickle cannot find
by its own name still travels (by the name the program binds it to); a kernel's exception
keeps its type even when pickle cannot rebuild it; whatever cannot travel at all fails the
run loudly, naming the item or the kernel, never silently.
"""

from __future__ import annotations

import importlib
import io
import pickle
import sys
import traceback
import types
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, cast

from .process_state import apply_after_load, apply_before_load, pickled_state
from .semantics import short_repr


def picklable(value: Any) -> bool:
    try:
        pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return False
    return True


class _ByBinding(pickle.Pickler):
    """Pickles a module-level function that pickle cannot find under its own name (a
    decorator without functools.wraps returned ``logged.<locals>.wrapper``) by the global
    name it is bound to in its module, as the program itself reaches it."""

    def reducer_override(self, obj: Any) -> Any:
        if (
            not isinstance(obj, types.FunctionType)
            or "<locals>" not in obj.__qualname__
        ):
            return NotImplemented
        module = sys.modules.get(obj.__module__)
        for name, value in vars(module).items() if module is not None else ():
            if value is obj:
                return _global_named, (obj.__module__, name)
        return NotImplemented


def _global_named(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def dumps(value: Any) -> bytes:
    """pickle.dumps, which also finds wrapped module-level functions (see _ByBinding)."""
    buffer = io.BytesIO()
    _ByBinding(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def by_value_where_needed(value: Any) -> bytes:
    """``dumps``, unless that cannot send ``value`` to a worker that did not fork from the
    main program: a definition of the main script itself (a worker's ``__main__`` is its
    own) or one pickle cannot name at all (a partial of a nested function, a lambda). Those
    go by cloudpickle, which sends them by value, as Spark, Dask, Ray and joblib do; its
    first error is raised if cloudpickle cannot either."""
    try:
        data = dumps(value)
    except Exception as error:
        data, problem = b"", error
    else:
        if b"__main__" not in data:  # (a string holding it only costs the check below)
            return data
    try:
        cloudpickle = importlib.import_module("cloudpickle")
    except ImportError as missing:
        if data:
            return data  # the worker will say what it cannot find
        raise problem from missing
    try:
        return cast(bytes, cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        if data:
            return data
        raise problem from None


def with_process(payload: bytes) -> bytes:
    """A kernel's pickled job, with the main program's process state (its command line,
    environment, settings: see ``process_state``), which a worker sets around loading it."""
    return pickle.dumps((pickled_state(), payload), protocol=pickle.HIGHEST_PROTOCOL)


def load_in_process(data: bytes) -> Any:
    """A job made by ``with_process``, loaded with its process state set."""
    return load_job(data)[1]


def load_job(data: bytes) -> tuple[bytes, Any]:
    """A job made by ``with_process`` and its pickled state, for a worker serving several
    regions, which sets each batch's state (``process_state.apply``) before running it."""
    state, payload = pickle.loads(data)
    changed = apply_before_load(state)
    job = pickle.loads(payload)
    apply_after_load(state, changed)
    return state, job


def job_payload(
    label: str,
    kernel_name: str,
    job: Any,
    destination: str,
    pickler: Callable[[Any], bytes] = dumps,
) -> bytes:
    """A region's job (its kernel and replicated arguments, and what else the engine's
    workers need), pickled with the process state; or a TypeError naming the kernel."""
    try:
        return with_process(pickler(job))
    except Exception as error:
        problem = TypeError(
            f"{label}: the kernel {kernel_name} or its replicated arguments cannot be "
            f"sent to {destination}: {error}"
        )
        problem.add_note(
            "kernels and the arguments of a parallel region must be picklable"
        )
        raise problem from error


def unsendable(
    label: str, items: Sequence[Any], start: int, error: Exception, destination: str
) -> Exception:
    """Pickling a batch failed: the first item that cannot be pickled, named (the first of
    the batch is item ``start`` of the region); else the pickling error itself."""
    for position, item in enumerate(items):
        if not picklable(item):
            problem = TypeError(
                f"{label}: item {start + position} ({short_repr(item)}) cannot be sent to "
                f"{destination}: {error}"
            )
            problem.add_note("items of a parallel region must be picklable")
            return problem
    return error


def pickled_batch(
    label: str, items: Sequence[Any], start: int, destination: str
) -> bytes:
    """A batch of items pickled here: an item that cannot reach a worker fails, named."""
    try:
        return by_value_where_needed(items)
    except Exception as error:
        raise unsendable(label, items, start, error, destination) from error


class PortableError:
    """A kernel's exception that pickle cannot rebuild as it is (its ``__init__`` takes other
    arguments than the ``args`` it passes on, say): its class, args and attributes travel, and
    the main program rebuilds it without calling ``__init__``, so the program's own ``except``
    clauses catch it and it reads as the sequential run's."""

    def __init__(self, error: BaseException) -> None:
        self.cls, self.args, self.state = type(error), error.args, dict(vars(error))

    def rebuild(self) -> BaseException:
        error: BaseException = self.cls.__new__(self.cls)
        error.args = self.args
        error.__dict__.update(self.state)
        return error


def portable(error: BaseException) -> Any:
    """What a worker sends for a kernel's exception (see ``portable_one``), with its chain:
    pickle drops ``__cause__``, ``__context__`` and ``__suppress_context__``, so a
    ``raise ConfigError(...) from error`` in a kernel would reach the main program's
    ``except`` without its cause. Each earlier link travels too, with its traceback's text
    as a note (its frames are this worker's)."""
    return _with_chain(error, {id(error)})


class ChainedError(NamedTuple):
    """A kernel's exception and the exceptions it was raised from or while handling."""

    error: Any  # what ``portable_one`` made of it
    cause: Any  # a ChainedError, or None
    context: Any
    suppress_context: bool
    traceback: str = (
        ""  # an earlier link's traceback, as text (its frames are the worker's)
    )


_MOST_LINKS = 16  # a longer chain is cut there


def _with_chain(error: BaseException, seen: set[int], trace: str = "") -> Any:
    links: list[Any] = []
    for link in (error.__cause__, error.__context__):
        if link is None or id(link) in seen or len(seen) >= _MOST_LINKS:
            links.append(None)
            continue
        seen.add(id(link))
        text = "".join(traceback.format_tb(link.__traceback__)).rstrip()
        links.append(_with_chain(link, seen, text))
    sent = portable_one(error)
    if links == [None, None] and not trace:
        return sent
    return ChainedError(sent, links[0], links[1], error.__suppress_context__, trace)


def portable_one(error: BaseException) -> BaseException | PortableError:
    """One exception as it can travel: the exception itself when it survives pickling, else
    a PortableError, else (its class or arguments cannot travel at all) a RuntimeError
    with its text and a note saying why."""
    try:
        pickle.loads(pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL))
        return error
    except Exception as problem:
        reason = problem
    candidate = PortableError(error)
    try:
        copy = pickle.loads(pickle.dumps(candidate, protocol=pickle.HIGHEST_PROTOCOL))
        copy.rebuild()
        return candidate
    except Exception:
        pass
    fallback = RuntimeError(f"{type(error).__qualname__}: {error}")
    fallback.add_note(
        f"toreador: the kernel raised {type(error).__qualname__}, which cannot be sent to "
        f"the main program ({type(reason).__name__}: {reason}); it is raised as a "
        "RuntimeError with its text"
    )
    return fallback


def received(error: Any) -> Any:
    """The kernel's exception as the main program raises it, with its chain (see
    ``portable``)."""
    if isinstance(error, ChainedError):
        rebuilt = received(error.error)
        if error.traceback:
            rebuilt.add_note(
                "worker traceback (most recent call last):\n" + error.traceback
            )
        rebuilt.__cause__ = received(error.cause) if error.cause is not None else None
        rebuilt.__context__ = (
            received(error.context) if error.context is not None else None
        )
        rebuilt.__suppress_context__ = error.suppress_context
        return rebuilt
    return error.rebuild() if isinstance(error, PortableError) else error
