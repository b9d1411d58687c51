"""What each channel carries and who may read it: notifications on `user:<id>`, stock and
price on `product:<id>`, refusals with a code (never silence), unsubscribe, ping."""

from __future__ import annotations

import asyncio

import pytest

from tessera.lib.realtime.client import RealtimeError
from tests.helpers import signed_in
from tests.realtime.helpers import make_product, next_topic, pay, place_order, socket_for


async def test_new_notification_reaches_the_users_channel(live):
    staff = await signed_in(live, role="staff")
    customer = await signed_in(live)
    product = await make_product(live, staff)
    order_id = await place_order(live, customer, product["id"])
    client = await socket_for(live, customer)
    try:
        await client.subscribe(f"user:{customer.id}")
        await pay(live, customer, order_id)  # the owner is mailed about the payment
        async with asyncio.timeout(2):
            frame = await next_topic(client, f"user:{customer.id}", "notify.message_queued")
        assert frame["data"]["user_id"] == customer.id
        assert frame["data"]["notification_id"] > 0
        assert frame["data"]["event_id"]
    finally:
        await client.close()


async def test_product_channel_carries_price_and_stock_changes(live):
    staff = await signed_in(live, role="staff")
    customer = await signed_in(live)
    product = await make_product(live, staff, stock=10)
    channel = f"product:{product['id']}"
    client = await socket_for(live, customer)
    try:
        await client.subscribe(channel)
        response = await live.patch(
            f"/api/v1/products/{product['id']}", json={"price": "9.90"}, headers=staff.headers
        )
        assert response.status_code == 200, response.text
        async with asyncio.timeout(2):
            edited = await next_change(client, channel, "updated")
        assert edited["data"]["price"] == "9.90"
        await place_order(live, customer, product["id"], quantity=3)
        async with asyncio.timeout(2):
            moved = await next_change(client, channel, "stock")
        assert moved["data"]["stock"] == 7
        assert moved["data"]["product_id"] == product["id"]
    finally:
        await client.close()


async def next_change(client, channel: str, reason: str):
    """The next product.changed for `reason` (the creation's own event may arrive first)."""
    while True:
        frame = await next_topic(client, channel, "product.changed")
        if frame["data"]["reason"] == reason:
            return frame


FORBIDDEN = [
    ("user:{other}", "realtime.channel_forbidden"),
    ("staff:orders", "realtime.channel_forbidden"),
    ("order:999999999", "realtime.channel_forbidden"),
    ("product:999999999", "realtime.channel_forbidden"),
    ("chat:999999999", "realtime.channel_forbidden"),
    ("staff:users", "realtime.unknown_channel"),
    ("admin:everything", "realtime.unknown_channel"),
]


async def test_forbidden_channels_get_an_error_with_a_code(live):
    customer = await signed_in(live)
    other = await signed_in(live)
    client = await socket_for(live, customer)
    try:
        for channel, code in FORBIDDEN:
            with pytest.raises(RealtimeError) as refused:
                await client.subscribe(channel.format(other=other.id))
            assert refused.value.code == code, channel
        # The refusals subscribed nothing: the socket's own channel still works.
        assert (await client.subscribe(f"user:{customer.id}"))["of"] == "subscribe"
    finally:
        await client.close()


async def test_unsubscribed_channel_is_silent(live):
    user = await signed_in(live)
    channel = f"user:{user.id}"
    client = await socket_for(live, user)
    try:
        await client.subscribe(channel)
        ack = await client.unsubscribe(channel)
        assert ack == {"type": "ack", "of": "unsubscribe", "channel": channel, "ref": ack["ref"]}
        await live.runtime.broadcaster.publish(channel, {"n": 1})
        await client.send({"type": "ping"})
        assert (await client.next())["type"] == "pong"
    finally:
        await client.close()
