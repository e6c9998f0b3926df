"""bag-of-tasks: a few heterogeneous tasks (a function and its datum each) side by side."""

from .base import Pattern

BAG_OF_TASKS = Pattern(
    name="bag-of-tasks",
    natural_for="bag_of_task",
    files=("Worker.py",),
    summary="each task is one function applied to one datum, run by any free worker",
)
