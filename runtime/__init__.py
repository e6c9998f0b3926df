"""toreador's runtime: the engines a generated program runs its parallel regions with.

Real modules, type-checked and tested in place (as ``toreador.runtime``), and copied verbatim
into every generated folder as the package ``toreador_runtime``, so that a compiled program
needs nothing from toreador. Each target copies the modules it needs (see
``toreador.compiler.targets``): they import each other relatively.

- ``semantics``: what the primitives mean (the same as the sequential reference), the region
  record every engine extends.
- ``process_state``: the main program's process state, set in workers that did not fork.
- ``travel``: what crosses to a worker and back (pickling, exceptions, "cannot be sent").
- ``output``: printed output recorded per item and replayed in input order; the producer feed.
- ``outcomes``: a batch's run in a worker and its ordered replay in the main program.
- ``driver``: the one loop every batch engine shares (bounded window, adaptive batch size,
  ordered replay, first failure), with a few hooks per engine.
- ``local``, ``spark``, ``hadoop`` (+ ``hadoop_streaming``), ``docker_run`` (+
  ``docker_transport``, ``docker_image``, ``docker_containers``): one engine each.
"""
