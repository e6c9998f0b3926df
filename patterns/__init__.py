"""The parallel patterns, registered in one place.

A pattern is the shape of a parallel execution (docs/user-guide.md); each has its own module saying
which files it generates and which primitive it is natural for.
"""

from __future__ import annotations

from .bag_of_tasks import BAG_OF_TASKS
from .base import Pattern
from .mapreduce import MAPREDUCE
from .producer_consumer import PRODUCER_CONSUMER

PATTERNS: dict[str, Pattern] = {p.name: p for p in (MAPREDUCE, PRODUCER_CONSUMER, BAG_OF_TASKS)}
NATURAL_PATTERN: dict[str, str] = {p.natural_for: p.name for p in PATTERNS.values()}

__all__ = ["NATURAL_PATTERN", "PATTERNS", "Pattern"]
