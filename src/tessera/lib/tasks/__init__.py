"""Background work: the transactional outbox (`outbox.py`) and its worker (`worker.py`)."""

from tessera.lib.tasks.outbox import Event, EventBus, publish
from tessera.lib.tasks.worker import OutboxWorker

__all__ = ["Event", "EventBus", "OutboxWorker", "publish"]
