"""Background work: the transactional outbox (`outbox.py`) and its worker (`worker.py`)."""

from tessera.lib.tasks.outbox import (
    Event,
    EventBus,
    EventPayload,
    Topic,
    declared_topics,
    publish,
)
from tessera.lib.tasks.worker import OutboxWorker

__all__ = [
    "Event",
    "EventBus",
    "EventPayload",
    "OutboxWorker",
    "Topic",
    "declared_topics",
    "publish",
]
