"""What a user would write instead of toreador: the benchmark cases by hand, with a library.

Usage: python peer_programs.py pool|joblib|dask CASE SHARED_FOLDER ARGS...
  CASE tiny ARGS: COUNT            (examples/many_tiny.py)
  CASE heavy ARGS: TASKS SAMPLES   (examples/few_heavy.py)
  CASE loop ARGS: GENERATIONS      (examples/small_regions.py)
  CASE mtbf ARGS: DATA             (mtbf_example/mtbf.py)

Each prints what the example prints. The kernels come from the compiled example's shared
module (SHARED_FOLDER), so the work is the same; each library is used the way its
documentation shows for that shape: one pool of the machine's cores made once and reused
by every map (a loop reuses it too), a chunk size where the library asks for one.
- pool: ``multiprocessing.Pool`` (fork), ``map``/``imap``.
- joblib: ``Parallel(n_jobs=cores)`` (loky processes, batch size "auto"), kept open.
- dask: ``dask.bag`` on the processes scheduler, given one fork-started executor.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

WORKERS = len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Task:
    """One task of a bag of tasks: a function and its datum (not a tuple: dask would take a
    tuple whose first element is callable for a task of its own graph, and run it)."""

    function: Callable[[Any], Any]
    datum: Any


def call(task: Task) -> Any:
    return task.function(task.datum)


class Peer:
    """A map over items with one library; the pool is made once and kept."""

    def __init__(self, library: str) -> None:
        self.library = library
        if library == "pool":
            self.pool = multiprocessing.get_context("fork").Pool(WORKERS)
        elif library == "joblib":
            from joblib import Parallel

            self.parallel = Parallel(n_jobs=WORKERS)
            self.parallel.__enter__()
        elif library == "dask":
            import dask

            self.executor = ProcessPoolExecutor(
                WORKERS, mp_context=multiprocessing.get_context("fork")
            )
            dask.config.set(scheduler="processes", pool=self.executor)
        else:
            raise SystemExit(f"unknown library {library!r}")

    def map(self, function: Callable[..., Any], items: Iterable[Any], chunks: int = 0) -> list[Any]:
        """``[function(x) for x in items]``; ``chunks``: how many pieces to cut a list into
        where the library wants a size (0: one item a piece)."""
        if self.library == "pool":
            materialised = list(items)
            size = max(1, len(materialised) // chunks) if chunks else 1
            return self.pool.map(function, materialised, chunksize=size)
        if self.library == "joblib":
            from joblib import delayed

            return list(self.parallel(delayed(function)(item) for item in items))
        import dask.bag

        materialised = list(items)
        pieces = chunks or len(materialised)
        bag = dask.bag.from_sequence(materialised, npartitions=max(1, pieces))
        return list(bag.map(function).compute())

    def close(self) -> None:
        if self.library == "pool":
            self.pool.close()
            self.pool.join()
        elif self.library == "joblib":
            self.parallel.__exit__(None, None, None)
        else:
            self.executor.shutdown()


def tiny(peer: Peer, count: int) -> None:
    from many_tiny_shared import collatz_length

    lengths = peer.map(collatz_length, range(1, count + 1), chunks=WORKERS * 32)
    best = max(range(count), key=lengths.__getitem__)
    print(f"{count} numbers, longest chain starts at {best + 1} with {lengths[best]} steps")
    print(f"total steps {sum(lengths)}")


def heavy(peer: Peer, tasks: int, samples: int) -> None:
    from few_heavy_shared import estimate_pi

    estimates = peer.map(partial(estimate_pi, samples=samples), range(tasks))
    for seed, estimate in enumerate(estimates):
        print(f"seed {seed}: {estimate:.6f}")
    print(f"mean {sum(estimates) / len(estimates):.6f}")


def loop(peer: Peer, generations: int) -> None:
    from small_regions_shared import Candidate, best, score, spread

    def mutate(candidate: Any, generation: int, rank: int) -> Any:  # the main program's own
        shift = ((generation * 7 + rank * 3) % 11 - 5) / 100
        return Candidate(candidate.name, tuple(w + shift for w in candidate.weights))

    target = (0.3, -0.2, 0.5, 0.1)
    population = [
        Candidate(f"c{i}", tuple(((i * 13 + j * 5) % 17) / 10 - 0.8 for j in range(4)))
        for i in range(30)
    ]
    rank = partial(score, target=target)
    for generation in range(generations):
        scores = peer.map(rank, population, chunks=WORKERS)
        low, width = peer.map(call, [Task(best, scores), Task(spread, scores)])
        ranked = sorted(zip(scores, population, strict=True), key=lambda pair: pair[0])
        population = [mutate(c, generation, r) for r, (_, c) in enumerate(ranked)]
        if generation % 100 == 0:
            print(f"generation {generation}: best {low:.6f}, spread {width:.6f}")
    print(f"final best {min(peer.map(rank, population, chunks=WORKERS)):.6f}")


def mtbf(peer: Peer, data: str) -> None:
    from mtbf_example.report import text_report
    from mtbf_example.sources import gateway_sources

    sources, bounds = gateway_sources(Path(data), None, None, None, None)
    found = peer.map(analyse_gateway, sources)
    results = sorted((r for r in found if r is not None), key=lambda r: r.gateway)
    sys.stdout.write(text_report(results, bounds.period([r.span for r in results])))


def analyse_gateway(source: Any) -> Any:
    """One gateway's analysis, as the flagship runs it sequentially inside each task."""
    from mtbf_example.analysis import Bounds
    from mtbf_example.mtbf import calculate_mtbf

    return calculate_mtbf(source, Bounds(), "UTC", False)


def main() -> None:
    library, case, shared_folder, *args = sys.argv[1:]
    sys.path.insert(0, shared_folder)
    peer = Peer(library)
    try:
        if case == "tiny":
            tiny(peer, int(args[0]))
        elif case == "heavy":
            heavy(peer, int(args[0]), int(args[1]))
        elif case == "loop":
            loop(peer, int(args[0]))
        elif case == "mtbf":
            mtbf(peer, args[0])
        else:
            raise SystemExit(f"unknown case {case!r}")
    finally:
        peer.close()


if __name__ == "__main__":
    main()
