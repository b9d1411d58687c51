"""The transactional outbox: typed domain events written in the same transaction as the change.

Each block declares what it publishes in its `events.py`: a `Topic` (a stable name such as
`order.paid`) bound to an `EventPayload` model. `publish(uow, bus, TOPIC, Payload(...))` adds an
`outbox_event` row to the use case's unit of work, so an event exists exactly when its change
committed. Consumers subscribe to the same `Topic` object and receive `Event[Payload]` with
the payload already validated. The worker (`worker.py`) delivers rows to subscribed handlers at
least once; `processed_event` remembers which handler already handled which event, so a retry
after a partial failure skips the handlers that succeeded.

Payloads are the contract between blocks: add fields freely (old rows lack them, so give them
defaults), never rename or remove one without a new topic.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict
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


class EventPayload(BaseModel):
    """Base of every event payload. Unknown fields are ignored, so a consumer reads rows that a
    newer (or older) publisher wrote."""

    model_config = ConfigDict(frozen=True, extra="ignore")


P = TypeVar("P", bound=EventPayload)
P_co = TypeVar("P_co", bound=EventPayload, covariant=True)

_TOPICS: dict[str, Topic[Any]] = {}


class Topic(Generic[P]):
    """A named kind of event and the model of its payload (declared once, in `events.py`)."""

    __slots__ = ("description", "name", "payload")
    name: str
    payload: type[P]
    description: str

    def __init__(self, name: str, payload: type[P], *, description: str) -> None:
        if len(name) > 64 or "." not in name:
            raise ValueError(f"topic {name!r} must be '<block>.<event>' and at most 64 chars")
        known = _TOPICS.get(name)
        if known is not None and known.payload is not payload:
            raise ValueError(f"topic {name!r} is already declared with {known.payload.__name__}")
        self.name = name
        self.payload = payload
        self.description = description
        _TOPICS[name] = self

    @property
    def block(self) -> str:
        return self.name.partition(".")[0]

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {self.payload.__name__})"


def declared_topics() -> list[Topic[Any]]:
    """Every topic declared by the modules imported so far, sorted by name."""
    return [_TOPICS[name] for name in sorted(_TOPICS)]


@dataclass(frozen=True, slots=True)
class Event(Generic[P_co]):
    """What a handler receives. `id` is stable across retries: use it for idempotency."""

    id: str
    topic: str
    aggregate_id: str | None
    data: P_co
    created_at: datetime
    attempt: int


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An outbox row as the worker claimed it, before its payload is read for a handler."""

    id: str
    topic: str
    aggregate_id: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempt: int


Job = Callable[[], Awaitable[None]]


class Subscription:
    """One handler of one topic; `deliver` validates the stored payload, then calls it."""

    __slots__ = ("_handler", "name", "topic")

    def __init__(
        self, name: str, topic: Topic[P], handler: Callable[[Event[P]], Awaitable[None]]
    ) -> None:
        self.name = name
        self.topic: Topic[Any] = topic
        self._handler: Callable[[Event[Any]], Awaitable[None]] = handler

    async def deliver(self, stored: StoredEvent) -> None:
        data = self.topic.payload.model_validate(stored.payload)
        await self._handler(
            Event(
                id=stored.id,
                topic=stored.topic,
                aggregate_id=stored.aggregate_id,
                data=data,
                created_at=stored.created_at,
                attempt=stored.attempt,
            )
        )


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

    def subscribe(
        self, topic: Topic[P], name: str, handler: Callable[[Event[P]], Awaitable[None]]
    ) -> None:
        """Register `handler` under a unique, stable `name` (it keys idempotency records)."""
        if any(sub.name == name for sub in self.subscriptions):
            raise ValueError(f"handler name {name!r} is already registered")
        self.subscriptions.append(Subscription(name, topic, handler))

    def is_subscribed(self, name: str) -> bool:
        return any(sub.name == name for sub in self.subscriptions)

    def every(self, interval_seconds: float, name: str, job: Job) -> None:
        self.jobs.append(PeriodicJob(name=name, interval_seconds=interval_seconds, job=job))

    def handlers_for(self, topic: str) -> list[Subscription]:
        return [sub for sub in self.subscriptions if sub.topic.name == topic]

    def on_publish(self, callback: Callable[[], None]) -> None:
        self._wakeups.append(callback)

    def notify_published(self) -> None:
        for callback in self._wakeups:
            callback()


async def publish(
    uow: UnitOfWork,
    bus: EventBus,
    topic: Topic[P],
    data: P,
    *,
    aggregate_id: str | int | None = None,
) -> str:
    """Add an event to the unit of work; it is delivered only if the transaction commits."""
    if not isinstance(data, topic.payload):
        raise TypeError(f"{topic.name} carries {topic.payload.__name__}, not {type(data).__name__}")
    event_id = uuid.uuid4().hex
    uow.session.add(
        OutboxEventDO(
            event_id=event_id,
            topic=topic.name,
            aggregate_id=None if aggregate_id is None else str(aggregate_id),
            payload=data.model_dump_json(),
            status=PENDING,
            available_at=utcnow(),
        )
    )

    async def wake() -> None:
        bus.notify_published()

    uow.after_commit(wake)
    return event_id
