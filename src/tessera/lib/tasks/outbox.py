"""The transactional outbox: domain events written in the same transaction as the change.

`publish(uow, topic, payload)` adds an `outbox_event` row to the use case's unit of work, so
an event exists exactly when its change committed. The worker (`worker.py`) delivers rows to
subscribed handlers at least once; `processed_event` remembers which handler already handled
which event, so a retry after a partial failure skips the handlers that succeeded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tessera.lib.db import Base, BigIntId, UnitOfWork, UTCDateTime, utcnow

log = structlog.get_logger("tessera.tasks")

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
MYSQL_TABLE = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


class OutboxEventDO(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_status_available_at", "status", "available_at"),
        MYSQL_TABLE,
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    aggregate_id: Mapped[str | None] = mapped_column(String(64), default=None)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ProcessedEventDO(Base):
    """One row per (handler, event) that completed: the consumers' idempotency record."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("handler", "event_id"), MYSQL_TABLE)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    handler: Mapped[str] = mapped_column(String(96))
    event_id: Mapped[str] = mapped_column(String(32))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class Event:
    """What a handler receives. `id` is stable across retries: use it for idempotency."""

    id: str
    topic: str
    aggregate_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempt: int


Handler = Callable[[Event], Awaitable[None]]
Job = Callable[[], Awaitable[None]]


@dataclass
class Subscription:
    name: str
    topic: str
    handler: Handler


@dataclass
class PeriodicJob:
    name: str
    interval_seconds: float
    job: Job


@dataclass
class EventBus:
    """Registry of handlers and periodic jobs, plus the wake-up for an in-process worker."""

    subscriptions: list[Subscription] = field(default_factory=list)
    jobs: list[PeriodicJob] = field(default_factory=list)
    _wakeups: list[Callable[[], None]] = field(default_factory=list)

    def subscribe(self, topic: str, name: str, handler: Handler) -> None:
        """Register `handler` under a unique, stable `name` (it keys idempotency records)."""
        if any(sub.name == name for sub in self.subscriptions):
            raise ValueError(f"handler name {name!r} is already registered")
        self.subscriptions.append(Subscription(name=name, topic=topic, handler=handler))

    def every(self, interval_seconds: float, name: str, job: Job) -> None:
        self.jobs.append(PeriodicJob(name=name, interval_seconds=interval_seconds, job=job))

    def handlers_for(self, topic: str) -> list[Subscription]:
        return [sub for sub in self.subscriptions if sub.topic in (topic, "*")]

    def on_publish(self, callback: Callable[[], None]) -> None:
        self._wakeups.append(callback)

    def notify_published(self) -> None:
        for callback in self._wakeups:
            callback()


async def publish(
    uow: UnitOfWork,
    bus: EventBus,
    topic: str,
    payload: dict[str, Any],
    *,
    aggregate_id: str | int | None = None,
) -> str:
    """Add an event to the unit of work; it is delivered only if the transaction commits."""
    event_id = uuid.uuid4().hex
    uow.session.add(
        OutboxEventDO(
            event_id=event_id,
            topic=topic,
            aggregate_id=None if aggregate_id is None else str(aggregate_id),
            payload=json.dumps(payload, separators=(",", ":"), default=str),
            status=PENDING,
            available_at=utcnow(),
        )
    )

    async def wake() -> None:
        bus.notify_published()

    uow.after_commit(wake)
    return event_id
