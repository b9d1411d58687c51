"""The order state machine: allowed paths, refused ones, who may do what, stock, history,
events and the expiry of unpaid orders."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tessera.blocks.order.events import ORDER_CREATED, ORDER_PAID, ORDER_SHIPPED
from tessera.lib.db import utcnow
from tessera.lib.tasks import Event
from tessera.lib.tasks.outbox import OutboxEventDO
from tests.helpers import drain, unique
from tests.order.conftest import make_product, placed, stock_of


async def _act(api, who, order_id: int, action: str, body=None):
    return await api.post(f"/api/v1/orders/{order_id}/{action}", json=body, headers=who.headers)


async def test_happy_path_to_completed_with_history(api, staff, customer):
    product = await make_product(api, staff, stock=3)
    order = await placed(api, customer, (product["id"], 1))
    paid = await _act(api, customer, order["id"], "pay", {"method": "sandbox"})
    assert paid.status_code == 200
    assert paid.json()["status"] == "paid"
    assert paid.json()["payment_method"] == "sandbox"
    shipped = await _act(
        api, staff, order["id"], "ship", {"carrier": "SF Express", "tracking_no": "SF123"}
    )
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["tracking_no"] == "SF123"
    completed = await _act(api, customer, order["id"], "complete")
    assert completed.json()["status"] == "completed"
    fetched = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert fetched["status"] == "completed"
    history = (
        await api.get(f"/api/v1/orders/{order['id']}/history", headers=customer.headers)
    ).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "shipped"),
        ("shipped", "completed"),
    ]
    assert history[2]["actor_id"] == staff.id
    assert history[1]["actor"] == f"user:{customer.id}"
    assert await stock_of(api, product["id"]) == 2


ALL = ["pay", "ship", "complete", "cancel", "refund"]
ALLOWED_FROM = {
    "pending_payment": {"pay", "cancel"},
    "paid": {"ship", "refund"},
    "shipped": {"complete"},
    "completed": set(),
    "cancelled": set(),
    "refunded": set(),
}
PATH_TO = {
    "pending_payment": [],
    "paid": ["pay"],
    "shipped": ["pay", "ship"],
    "completed": ["pay", "ship", "complete"],
    "cancelled": ["cancel"],
    "refunded": ["pay", "refund"],
}
BODIES = {
    "pay": {"method": "sandbox"},
    "ship": {"carrier": "EMS", "tracking_no": "E1"},
    "cancel": {"reason": "changed my mind"},
    "refund": {"reason": "damaged"},
    "complete": None,
}


@pytest.mark.parametrize("state", list(PATH_TO))
async def test_every_invalid_transition_is_409(api, staff, customer, state):
    product = await make_product(api, staff, stock=5)
    order = await placed(api, customer, (product["id"], 1))
    for action in PATH_TO[state]:
        who = customer if action in ("pay", "cancel", "complete") else staff
        assert (await _act(api, who, order["id"], action, BODIES[action])).status_code == 200
    for action in ALL:
        if action in ALLOWED_FROM[state]:
            continue
        # Staff may attempt anything but pay (owner only); the owner tries pay.
        who = customer if action == "pay" else staff
        response = await _act(api, who, order["id"], action, BODIES[action])
        assert response.status_code == 409, (state, action)
        assert response.json()["code"] == "order.invalid_state"
    fetched = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert fetched["status"] == state


async def test_customer_cannot_ship_or_refund_and_staff_cannot_pay(api, staff, customer):
    product = await make_product(api, staff)
    order = await placed(api, customer, (product["id"], 1))
    assert (await _act(api, staff, order["id"], "pay", BODIES["pay"])).status_code == 403
    await _act(api, customer, order["id"], "pay", BODIES["pay"])
    for action in ("ship", "refund"):
        response = await _act(api, customer, order["id"], action, BODIES[action])
        assert response.status_code == 403, action
        assert response.json()["code"] == "order.action_forbidden"


async def test_cancel_and_refund_restore_stock(api, staff, customer):
    product = await make_product(api, staff, stock=5)
    first = await placed(api, customer, (product["id"], 2))
    second = await placed(api, customer, (product["id"], 3))
    assert await stock_of(api, product["id"]) == 0
    cancelled = await _act(api, customer, first["id"], "cancel", {"reason": "too slow"})
    assert cancelled.json()["status"] == "cancelled"
    assert await stock_of(api, product["id"]) == 2
    await _act(api, customer, second["id"], "pay", BODIES["pay"])
    refunded = await _act(api, staff, second["id"], "refund", {"reason": "broken"})
    assert refunded.json()["status"] == "refunded"
    assert await stock_of(api, product["id"]) == 5
    history = (
        await api.get(f"/api/v1/orders/{first['id']}/history", headers=customer.headers)
    ).json()
    assert history[-1]["reason"] == "too slow"


async def test_staff_may_cancel_any_unpaid_order(api, staff, customer):
    product = await make_product(api, staff, stock=1)
    order = await placed(api, customer, (product["id"], 1))
    response = await _act(api, staff, order["id"], "cancel", {"reason": "fraud check"})
    assert response.status_code == 200
    assert await stock_of(api, product["id"]) == 1


async def test_unknown_payment_method_is_422(api, staff, customer):
    product = await make_product(api, staff)
    order = await placed(api, customer, (product["id"], 1))
    response = await _act(api, customer, order["id"], "pay", {"method": "bitcoin"})
    assert response.status_code == 422
    assert response.json()["code"] == "payment.unknown_method"


async def test_ship_needs_carrier_and_tracking(api, staff, customer):
    product = await make_product(api, staff)
    order = await placed(api, customer, (product["id"], 1))
    await _act(api, customer, order["id"], "pay", BODIES["pay"])
    for body in (None, {}, {"carrier": "EMS"}, {"carrier": "", "tracking_no": "1"}):
        assert (await _act(api, staff, order["id"], "ship", body)).status_code == 422


async def test_unpaid_orders_expire_and_return_stock(api_with):
    from tessera.blocks.order.service import expire_unpaid_orders
    from tests.helpers import signed_in

    async with api_with(order={"payment_timeout_seconds": 10}) as api:
        staff = await signed_in(api, role="staff")
        customer = await signed_in(api)
        product = await make_product(api, staff, stock=4)
        stale = await placed(api, customer, (product["id"], 3))
        fresh = await placed(api, customer, (product["id"], 1))
        async with api.runtime.db.transaction() as uow:
            from tessera.blocks.order.model.do import OrderDO

            await uow.session.execute(
                update(OrderDO)
                .where(OrderDO.id == stale["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert await expire_unpaid_orders(runtime=api.runtime) == 1
        assert await expire_unpaid_orders(runtime=api.runtime) == 0
        got = (await api.get(f"/api/v1/orders/{stale['id']}", headers=customer.headers)).json()
        assert got["status"] == "cancelled"
        kept = (await api.get(f"/api/v1/orders/{fresh['id']}", headers=customer.headers)).json()
        assert kept["status"] == "pending_payment"
        assert await stock_of(api, product["id"]) == 3
        history = (
            await api.get(f"/api/v1/orders/{stale['id']}/history", headers=customer.headers)
        ).json()
        assert history[-1]["actor"] == "system"
        assert history[-1]["reason"] == "payment timeout"


async def test_transitions_publish_events_delivered_once(api, staff, customer):
    received: list[Event] = []

    async def handler(event: Event) -> None:
        received.append(event)

    for topic in (ORDER_CREATED, ORDER_PAID, ORDER_SHIPPED):
        api.runtime.events.subscribe(topic, unique(f"test.{topic.name}."), handler)
    product = await make_product(api, staff, price="6.25")
    order = await placed(api, customer, (product["id"], 2))
    await _act(api, customer, order["id"], "pay", BODIES["pay"])
    await _act(api, staff, order["id"], "ship", {"carrier": "EMS", "tracking_no": "E9"})
    await drain(api)
    await drain(api)
    mine = [event for event in received if event.data.order_no == order["order_no"]]
    assert [event.topic for event in mine] == ["order.created", "order.paid", "order.shipped"]
    paid = mine[1].data
    assert paid.user_id == customer.id
    assert paid.total == "12.50"
    assert paid.items[0].unit_price == "6.25"
    assert mine[2].data.tracking_no == "E9"
    async with api.runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEventDO).where(
                    OutboxEventDO.aggregate_id == str(order["id"]),
                    OutboxEventDO.topic.like("order.%"),
                )
            )
        ).all()
    # Other tests may publish order events for the same numeric id: match the order number.
    ours = [row for row in rows if json.loads(row.payload)["order_no"] == order["order_no"]]
    assert [row.topic for row in ours] == ["order.created", "order.paid", "order.shipped"]
    assert {row.status for row in ours} == {"delivered"}


async def test_refused_transition_writes_no_event(api, staff, customer):
    product = await make_product(api, staff)
    order = await placed(api, customer, (product["id"], 1))
    await _act(api, staff, order["id"], "ship", BODIES["ship"])
    async with api.runtime.db.read() as session:
        rows = (
            await session.scalars(
                select(OutboxEventDO).where(
                    OutboxEventDO.aggregate_id == str(order["id"]),
                    OutboxEventDO.topic.like("order.%"),
                )
            )
        ).all()
    topics = [row.topic for row in rows if json.loads(row.payload)["order_no"] == order["order_no"]]
    assert topics == ["order.created"]
