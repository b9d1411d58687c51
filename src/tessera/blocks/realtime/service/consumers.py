"""Outbox events in, channel messages out. Only committed changes are published, because
these handlers run from the outbox; a publish that fails (Redis down) fails the handler and
the worker retries it later. Each channel has its own handler, so a retry after a partial
failure does not publish twice to the channels that already got the event.

Every message's `data` is `{"topic": <event topic>, "event_id": <outbox id>, ...payload}`;
`event_id` lets a client drop the rare duplicate of an at-least-once delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from tessera.blocks.notify.events import MESSAGE_QUEUED, MessageQueued
from tessera.blocks.order import service as order_service
from tessera.blocks.order.events import ORDER_TOPICS, PRODUCT_CHANGED, OrderEvent, ProductChanged
from tessera.blocks.realtime.events import (
    CHAT_MEMBERSHIP_CHANGED,
    CHAT_MESSAGE_POSTED,
    CHAT_ROOM_CREATED,
    ChatMembershipChanged,
    ChatMessagePosted,
    ChatRoomCreated,
)
from tessera.blocks.realtime.service.channels import (
    STAFF_ORDERS,
    order_channel,
    product_channel,
    user_channel,
)
from tessera.blocks.realtime.service.chat import chat_channel
from tessera.blocks.report.events import JOB_FINISHED, JOB_PROGRESS, JobEvent
from tessera.lib.errors import NotFound
from tessera.lib.realtime import GATEWAY, broadcaster_of
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import Event, EventPayload

log = structlog.get_logger("tessera.realtime")


def _data(event: Event[EventPayload], **extra: Any) -> dict[str, Any]:
    return {
        "topic": event.topic,
        "event_id": event.id,
        **event.data.model_dump(mode="json"),
        **extra,
    }


async def _publish(runtime: Runtime, channel: str, data: dict[str, Any]) -> None:
    await broadcaster_of(runtime).publish(channel, data)


def subscribe_handlers(runtime: Runtime) -> None:
    bus = runtime.events

    def to(
        channel_of: Callable[[Any], str],
    ) -> Callable[[Event[Any]], Awaitable[None]]:
        async def handler(event: Event[Any]) -> None:
            await _publish(runtime, channel_of(event.data), _data(event))

        return handler

    for topic in ORDER_TOPICS:
        bus.subscribe(
            topic,
            f"realtime.{topic.name}.order",
            to(lambda data: order_channel(_order(data).order_id)),
        )
        bus.subscribe(
            topic,
            f"realtime.{topic.name}.owner",
            to(lambda data: user_channel(_order(data).user_id)),
        )
        bus.subscribe(topic, f"realtime.{topic.name}.staff", to(lambda data: STAFF_ORDERS))

    async def on_message_queued(event: Event[MessageQueued]) -> None:
        if event.data.user_id is not None:
            await _publish(runtime, user_channel(event.data.user_id), _data(event))

    async def on_product_changed(event: Event[ProductChanged]) -> None:
        for product_id in sorted(set(event.data.product_ids)):
            current: dict[str, Any] = {"product_id": product_id}
            try:
                product = await order_service.get_product(runtime=runtime, product_id=product_id)
                current.update(
                    price=f"{product.price:.2f}",
                    currency=product.currency,
                    stock=product.stock,
                    status=product.status,
                )
            except NotFound:
                current["status"] = "deleted"
            await _publish(runtime, product_channel(product_id), _data(event, **current))

    async def on_chat_message(event: Event[ChatMessagePosted]) -> None:
        await _publish(runtime, chat_channel(event.data.room_id), _data(event))

    async def on_room_created(event: Event[ChatRoomCreated]) -> None:
        for user_id in event.data.member_ids:
            await _publish(runtime, user_channel(user_id), _data(event))

    async def on_membership(event: Event[ChatMembershipChanged]) -> None:
        data = event.data
        if data.change == "removed":
            gateway = runtime.slots.get(GATEWAY)
            await gateway.hub.kick(data.user_id, chat_channel(data.room_id))
        await _publish(runtime, user_channel(data.user_id), _data(event))

    # Export and import jobs: progress and the outcome go to their owner.
    for job_topic in (JOB_PROGRESS, JOB_FINISHED):
        bus.subscribe(
            job_topic, f"realtime.{job_topic.name}", to(lambda data: user_channel(_job(data)))
        )

    bus.subscribe(MESSAGE_QUEUED, "realtime.notification", on_message_queued)
    bus.subscribe(PRODUCT_CHANGED, "realtime.product_changed", on_product_changed)
    bus.subscribe(CHAT_MESSAGE_POSTED, "realtime.chat_message", on_chat_message)
    bus.subscribe(CHAT_ROOM_CREATED, "realtime.chat_room_created", on_room_created)
    bus.subscribe(CHAT_MEMBERSHIP_CHANGED, "realtime.chat_membership", on_membership)


def _job(data: Any) -> int:
    assert isinstance(data, JobEvent)
    return data.owner_id


def _order(data: Any) -> OrderEvent:
    assert isinstance(data, OrderEvent)
    return data
