"""Order updates reach the owner's sockets and the staff feed, from committed events only."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import signed_in
from tests.realtime.helpers import make_product, next_topic, pay, place_order, socket_for


async def test_paid_order_reaches_owner_and_staff_feed(live):
    staff = await signed_in(live, role="staff")
    customer = await signed_in(live)
    product = await make_product(live, staff)
    order_id = await place_order(live, customer, product["id"])

    owner = await socket_for(live, customer)
    feed = await socket_for(live, staff)
    try:
        await owner.subscribe(f"user:{customer.id}")
        await owner.subscribe(f"order:{order_id}")
        await feed.subscribe("staff:orders")
        await pay(live, customer, order_id)
        async with asyncio.timeout(1.0):
            on_order = await next_topic(owner, f"order:{order_id}", "order.paid")
            on_user = await next_topic(owner, f"user:{customer.id}", "order.paid")
            on_feed = await next_topic(feed, "staff:orders", "order.paid")
    finally:
        await owner.close()
        await feed.close()
    for frame in (on_order, on_user, on_feed):
        assert frame["data"]["order_id"] == order_id
        assert frame["data"]["status"] == "paid"
        assert frame["data"]["user_id"] == customer.id
        assert frame["offset"] >= 1
        assert frame["epoch"]


async def test_refused_payment_publishes_nothing(live):
    """A failed transition rolls back: no event, nothing on the channel."""
    staff = await signed_in(live, role="staff")
    customer = await signed_in(live)
    product = await make_product(live, staff)
    order_id = await place_order(live, customer, product["id"])
    owner = await socket_for(live, customer)
    try:
        await owner.subscribe(f"order:{order_id}")
        await pay(live, customer, order_id)
        paid = await next_topic(owner, f"order:{order_id}", "order.paid")
        again = await live.post(
            f"/api/v1/orders/{order_id}/pay", json={"method": "sandbox"}, headers=customer.headers
        )
        assert again.status_code == 409
        ship = await live.post(
            f"/api/v1/orders/{order_id}/ship",
            json={"carrier": "SF", "tracking_no": "SF1"},
            headers=staff.headers,
        )
        assert ship.status_code == 200
        shipped = await next_topic(owner, f"order:{order_id}", "order.shipped")
    finally:
        await owner.close()
    # The refused second payment left no message between the payment and the shipment.
    assert shipped["offset"] == paid["offset"] + 1


@pytest.mark.parametrize("role", ["customer", "staff"])
async def test_order_channel_needs_owner_or_staff(live, role):
    staff = await signed_in(live, role="staff")
    owner = await signed_in(live)
    product = await make_product(live, staff)
    order_id = await place_order(live, owner, product["id"])
    other = await signed_in(live, role=role)
    client = await socket_for(live, other)
    try:
        if role == "staff":
            ack = await client.subscribe(f"order:{order_id}")
            assert ack["of"] == "subscribe"
        else:
            from tessera.lib.realtime.client import RealtimeError

            with pytest.raises(RealtimeError) as refused:
                await client.subscribe(f"order:{order_id}")
            assert refused.value.code == "realtime.channel_forbidden"
    finally:
        await client.close()
