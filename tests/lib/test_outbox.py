"""The outbox: events exist only for committed work; delivery retries, backs off, dies."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ConfigDict
from sqlalchemy import select

from tessera.lib.tasks import Event, EventPayload, Topic, publish
from tessera.lib.tasks.outbox import OutboxEventDO
from tessera.lib.tasks.worker import backoff_seconds, list_events, retry_event
from tests.helpers import drain, unique


class Anything(EventPayload):
    model_config = ConfigDict(frozen=True, extra="allow")


def new_topic(prefix: str = "topic") -> Topic[Anything]:
    return Topic(unique(f"{prefix}."), Anything, description="a test topic")


async def _publish(api, topic: Topic[Anything], payload: dict) -> str:
    async with api.runtime.db.transaction() as uow:
        return await publish(uow, api.runtime.events, topic, Anything(**payload), aggregate_id=1)


async def _row(api, event_id: str) -> OutboxEventDO:
    async with api.runtime.db.read() as session:
        row = await session.scalar(select(OutboxEventDO).where(OutboxEventDO.event_id == event_id))
    assert row is not None
    return row


async def test_committed_event_is_delivered_once(api):
    topic = new_topic()
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    api.runtime.events.subscribe(topic, unique("h"), handler)
    event_id = await _publish(api, topic, {"order_id": 7, "total": "12.50"})
    await drain(api)
    await drain(api)
    assert [event.id for event in seen] == [event_id]
    assert seen[0].data.model_dump() == {"order_id": 7, "total": "12.50"}
    assert (await _row(api, event_id)).status == "delivered"


async def test_rolled_back_transaction_leaves_no_event(api):
    topic = new_topic()
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    api.runtime.events.subscribe(topic, unique("h"), handler)

    async def failing_use_case() -> None:
        async with api.runtime.db.transaction() as uow:
            await publish(uow, api.runtime.events, topic, Anything(x=1))
            raise RuntimeError("failure after the event was written")

    with pytest.raises(RuntimeError, match="failure after"):
        await failing_use_case()
    await drain(api)
    assert seen == []
    async with api.runtime.db.read() as session:
        rows = await session.scalars(select(OutboxEventDO).where(OutboxEventDO.topic == topic.name))
        assert list(rows) == []


async def test_failing_handler_is_retried_until_it_succeeds(api):
    topic = new_topic()
    calls: list[int] = []
    succeeded: list[str] = []

    async def flaky(event: Event) -> None:
        calls.append(event.attempt)
        if len(calls) <= 2:
            raise ConnectionError("smtp down")

    async def steady(event: Event) -> None:
        succeeded.append(event.id)

    api.runtime.events.subscribe(topic, unique("flaky"), flaky)
    api.runtime.events.subscribe(topic, unique("steady"), steady)
    event_id = await _publish(api, topic, {})
    for _ in range(50):
        await drain(api)
        if (await _row(api, event_id)).status == "delivered":
            break
        await asyncio.sleep(0.02)
    row = await _row(api, event_id)
    assert row.status == "delivered"
    assert calls == [1, 2, 3]
    # The handler that succeeded the first time is not run again on retries.
    assert succeeded == [event_id]


async def test_event_goes_dead_after_max_attempts_and_can_be_retried(api_with):
    async with api_with(tasks={"max_attempts": 2, "backoff_base_seconds": 0.001}) as api:
        topic = new_topic()
        attempts: list[int] = []

        async def broken(event: Event) -> None:
            attempts.append(event.attempt)
            raise ValueError("template missing")

        api.runtime.events.subscribe(topic, unique("broken"), broken)
        event_id = await _publish(api, topic, {})
        for _ in range(20):
            await drain(api)
            if (await _row(api, event_id)).status == "dead":
                break
            await asyncio.sleep(0.01)
        row = await _row(api, event_id)
        assert row.status == "dead"
        assert attempts == [1, 2]
        assert "template missing" in (row.last_error or "")
        dead = await list_events(api.runtime.db, status="dead")
        assert row.id in [item.id for item in dead]

        assert await retry_event(api.runtime.db, row.id)
        await drain(api)
        assert attempts[2] == 1  # a fresh attempt budget
        assert not await retry_event(api.runtime.db, 999_999_999)


def test_backoff_grows_exponentially_and_is_capped():
    from tessera.lib.config import TasksSettings

    settings = TasksSettings(backoff_base_seconds=2, backoff_max_seconds=60)
    assert 1.6 <= backoff_seconds(1, settings) <= 2.4
    assert 6.4 <= backoff_seconds(3, settings) <= 9.6
    assert backoff_seconds(20, settings) <= 72


async def test_batch_is_delivered_concurrently_but_in_order_per_aggregate(api_with):
    async with api_with(tasks={"concurrency": 4}) as api:
        topic = new_topic("agg")
        running = 0
        peak = 0
        seen: list[tuple[str, int]] = []

        async def slow(event: Event) -> None:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            seen.append((event.aggregate_id or "", event.data.model_dump()["n"]))
            running -= 1

        api.runtime.events.subscribe(topic, unique("slow"), slow)
        async with api.runtime.db.transaction() as uow:
            for n in range(3):
                for aggregate in ("a", "b", "c", "d"):
                    await publish(
                        uow,
                        api.runtime.events,
                        topic,
                        Anything(n=n),
                        aggregate_id=f"{topic.name}-{aggregate}",
                    )
        await drain(api)
        assert peak > 1  # several aggregates at once
        assert peak <= 4
        for aggregate in ("a", "b", "c", "d"):
            steps = [n for agg, n in seen if agg == f"{topic.name}-{aggregate}"]
            assert steps == [0, 1, 2]
