"""mapreduce: input splits mapped in parallel, results reduced by key (input position)."""

from .base import Pattern

MAPREDUCE = Pattern(
    name="mapreduce",
    natural_for="data_parallel_region",
    files=("Mapper.py", "Reducer.py"),
    summary="split the input, map each split in a worker, reduce the keyed results in order",
)
