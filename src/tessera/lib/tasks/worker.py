"""The outbox worker: claims due events, runs their handlers, retries with exponential backoff
and parks an event as `dead` after `tasks.max_attempts` failures.

Claiming takes a lease (`locked_until`) in a short transaction (`FOR UPDATE SKIP LOCKED` on
MySQL/MariaDB; SQLite serializes writers anyway), so several workers can share one table.
Delivery happens outside that transaction. A worker that dies mid-batch leaves leases that
expire, and the events are picked up again: delivery is at least once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from tessera.lib.config import TasksSettings
from tessera.lib.db import Database, utcnow
from tessera.lib.tasks.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    EventBus,
    OutboxEventDO,
    ProcessedEventDO,
    StoredEvent,
)

log = structlog.get_logger("tessera.tasks")


def backoff_seconds(attempts: int, settings: TasksSettings) -> float:
    """Delay before the next try after `attempts` failures: exponential, capped, jittered."""
    delay = settings.backoff_base_seconds * (2 ** max(0, attempts - 1))
    return float(min(settings.backoff_max_seconds, delay) * random.uniform(0.8, 1.2))


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    event_id: str
    topic: str
    status: str
    attempts: int
    available_at: datetime
    last_error: str | None
    created_at: datetime


class OutboxWorker:
    def __init__(self, db: Database, bus: EventBus, settings: TasksSettings) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self._wake = asyncio.Event()
        bus.on_publish(self._wake.set)

    async def _claim(self) -> list[StoredEvent]:
        now = utcnow()
        due = (
            OutboxEventDO.status == PENDING,
            OutboxEventDO.available_at <= now,
            or_(OutboxEventDO.locked_until.is_(None), OutboxEventDO.locked_until < now),
        )
        # A cheap read first: an idle worker must not take the (SQLite: only) write lock
        # every poll interval.
        async with self.db.read() as session:
            if await session.scalar(select(OutboxEventDO.id).where(*due).limit(1)) is None:
                return []
        async with self.db.transaction() as uow:
            query = (
                select(OutboxEventDO)
                .where(*due)
                .order_by(OutboxEventDO.id)
                .limit(self.settings.batch_size)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = list((await uow.session.execute(query)).scalars())
            lease = now + timedelta(seconds=self.settings.lease_seconds)
            for row in rows:
                row.locked_until = lease
            return [
                StoredEvent(
                    id=row.event_id,
                    topic=row.topic,
                    aggregate_id=row.aggregate_id,
                    payload=json.loads(row.payload),
                    created_at=row.created_at,
                    attempt=row.attempts + 1,
                )
                for row in rows
            ]

    async def _processed(self, event_ids: list[str]) -> set[tuple[str, str]]:
        """(handler, event id) pairs that already completed, for a whole batch at once."""
        if not event_ids:
            return set()
        async with self.db.read() as session:
            rows = await session.execute(
                select(ProcessedEventDO.handler, ProcessedEventDO.event_id).where(
                    ProcessedEventDO.event_id.in_(event_ids)
                )
            )
            return {(row.handler, row.event_id) for row in rows}

    async def _deliver(
        self, event: StoredEvent, processed: set[tuple[str, str]]
    ) -> tuple[list[str], str | None]:
        """Run the handlers that have not handled `event` yet.

        Returns the names of those that succeeded now and the first error, if any.
        """
        succeeded: list[str] = []
        failure: str | None = None
        for subscription in self.bus.handlers_for(event.topic):
            if (subscription.name, event.id) in processed:
                continue
            try:
                await subscription.deliver(event)
            except Exception as exc:
                log.warning(
                    "event_handler_failed",
                    handler=subscription.name,
                    topic=event.topic,
                    event_id=event.id,
                    attempt=event.attempt,
                    error=repr(exc),
                )
                failure = (
                    failure
                    or (
                        f"{subscription.name}: "
                        + "".join(traceback.format_exception_only(exc)).strip()
                    )[:2000]
                )
                continue
            succeeded.append(subscription.name)
        return succeeded, failure

    async def _finish(self, event: StoredEvent, succeeded: list[str], failure: str | None) -> None:
        """Record the outcome in one transaction.

        Per-handler records are kept only when some handler failed: they let the retry skip
        the handlers that already succeeded. A delivered event is never run again.
        """
        now = utcnow()
        values: dict[str, object] = {"locked_until": None}
        if failure is None:
            values.update(status=DELIVERED, delivered_at=now, attempts=event.attempt)
        elif event.attempt >= self.settings.max_attempts:
            values.update(status=DEAD, attempts=event.attempt, last_error=failure)
            log.error("event_dead", topic=event.topic, event_id=event.id, error=failure)
        else:
            delay = backoff_seconds(event.attempt, self.settings)
            values.update(
                attempts=event.attempt,
                last_error=failure,
                available_at=now + timedelta(seconds=delay),
            )
        remember = succeeded if failure is not None else []
        try:
            await self._write_outcome(event.id, values, remember)
        except IntegrityError:
            # A concurrent delivery (after a lease expired) recorded a handler first.
            await self._write_outcome(event.id, values, [])

    async def _write_outcome(
        self, event_id: str, values: dict[str, object], handlers: list[str]
    ) -> None:
        async with self.db.transaction() as uow:
            for handler in handlers:
                uow.session.add(ProcessedEventDO(handler=handler, event_id=event_id))
            await uow.session.execute(
                update(OutboxEventDO).where(OutboxEventDO.event_id == event_id).values(**values)
            )

    async def run_once(self) -> int:
        """Claim one batch of due events and process it; returns how many were claimed."""
        events = await self._claim()
        processed = await self._processed([event.id for event in events])
        # Handlers mostly wait on I/O (SMTP, SMS, storage), so the batch is delivered with
        # bounded concurrency; events of one aggregate (e.g. one order) stay in order.
        groups: dict[tuple[str, str], list[StoredEvent]] = {}
        for event in events:
            key = (
                (event.topic.partition(".")[0], event.aggregate_id)
                if event.aggregate_id is not None
                else ("", event.id)
            )
            groups.setdefault(key, []).append(event)
        slots = asyncio.Semaphore(self.settings.concurrency)

        async def deliver_in_order(group: list[StoredEvent]) -> None:
            async with slots:
                for event in group:
                    succeeded, failure = await self._deliver(event, processed)
                    await self._finish(event, succeeded, failure)

        outcomes = await asyncio.gather(
            *(deliver_in_order(group) for group in groups.values()), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(events)

    async def drain(self, *, max_batches: int = 1000) -> int:
        """Process due events until none is left (tests, `tessera worker --once`)."""
        total = 0
        for _ in range(max_batches):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        log.info("worker_started", handlers=[sub.name for sub in self.bus.subscriptions])
        next_run = {job.name: time.monotonic() + job.interval_seconds for job in self.bus.jobs}
        while not stop.is_set():
            # Cleared before looking, not after: an event committed while this batch runs
            # must wake the next wait, not be left for the poll interval.
            self._wake.clear()
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("worker_batch_failed")
                claimed = 0
            for job in self.bus.jobs:
                if time.monotonic() >= next_run[job.name]:
                    next_run[job.name] = time.monotonic() + job.interval_seconds
                    try:
                        await job.job()
                    except Exception:
                        log.exception("periodic_job_failed", job=job.name)
            if claimed:
                continue  # more may be waiting: no sleep between full batches
            stop_wait = asyncio.ensure_future(stop.wait())
            wake_wait = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait(
                {stop_wait, wake_wait},
                timeout=self.settings.poll_interval_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in (stop_wait, wake_wait):
                waiter.cancel()
        log.info("worker_stopped")


async def list_events(db: Database, *, status: str | None, limit: int = 100) -> list[EventRow]:
    async with db.read() as session:
        query = select(OutboxEventDO).order_by(OutboxEventDO.id.desc()).limit(limit)
        if status:
            query = query.where(OutboxEventDO.status == status)
        rows = list((await session.execute(query)).scalars())
    return [
        EventRow(
            id=row.id,
            event_id=row.event_id,
            topic=row.topic,
            status=row.status,
            attempts=row.attempts,
            available_at=row.available_at,
            last_error=row.last_error,
            created_at=row.created_at,
        )
        for row in rows
    ]


async def retry_event(db: Database, event_row_id: int) -> bool:
    """Put a dead (or pending) event back in line with a fresh attempt budget."""
    async with db.transaction() as uow:
        result = await uow.session.execute(
            update(OutboxEventDO)
            .where(OutboxEventDO.id == event_row_id, OutboxEventDO.status != DELIVERED)
            .values(status=PENDING, attempts=0, available_at=utcnow(), locked_until=None)
        )
    return bool(getattr(result, "rowcount", 0) == 1)
