"""producer-consumer: a producer feeds a bounded queue that consumer workers drain."""

from .base import Pattern

PRODUCER_CONSUMER = Pattern(
    name="producer-consumer",
    natural_for="producer_consumer",
    files=("Producer.py", "Consumer.py"),
    summary="items stream through a bounded queue to consumers while the producer runs",
)
