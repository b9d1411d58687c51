"""`product.changed`: one event per committed transaction that edits the catalogue or moves
stock, naming every product it touched; refused and rolled-back requests publish nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import update

from tessera.blocks.order.events import PRODUCT_CHANGED, ProductChanged
from tessera.blocks.order.model.do import OrderDO
from tessera.blocks.order.service import expire_unpaid_orders
from tessera.lib.db import utcnow
from tessera.lib.tasks import Event
from tests.helpers import drain, unique
from tests.order.conftest import make_product, place, placed, stock_of


class Recorder:
    """A `product.changed` subscriber on the app's bus; keeps what the worker delivers."""

    def __init__(self, api) -> None:
        self.api = api
        self.events: list[Event[ProductChanged]] = []
        api.runtime.events.subscribe(PRODUCT_CHANGED, unique("test.product_changed."), self.record)

    @classmethod
    async def after_pending(cls, api) -> Recorder:
        """A recorder of what happens from now on: earlier events are delivered first."""
        await drain(api)
        return cls(api)

    async def record(self, event: Event[ProductChanged]) -> None:
        self.events.append(event)

    async def changes(self, *products: dict) -> Counter[tuple[str, tuple[int, ...]]]:
        """(reason, product ids) of every delivered event naming one of `products` (the
        shared test database also holds other tests' events)."""
        await drain(self.api)
        mine = {product["id"] for product in products}
        return Counter(
            (event.data.reason, tuple(event.data.product_ids))
            for event in self.events
            if mine & set(event.data.product_ids)
        )


async def _act(api, who, order_id: int, action: str, body: dict):
    return await api.post(f"/api/v1/orders/{order_id}/{action}", json=body, headers=who.headers)


async def test_catalogue_edits_publish_one_event_each(api, staff, customer):
    recorder = await Recorder.after_pending(api)
    product = await make_product(api, staff)
    pid = product["id"]
    path = f"/api/v1/products/{pid}"
    assert (await api.patch(path, json={"price": "9.99"}, headers=staff.headers)).is_success
    # Refused edits change nothing and say nothing.
    assert (await api.patch(path, json={"price": 9.99}, headers=staff.headers)).status_code == 422
    assert (await api.patch(path, json={"stock": 1}, headers=customer.headers)).status_code == 403
    assert (await api.delete(path, headers=staff.headers)).status_code == 204
    assert (await api.delete(path, headers=staff.headers)).status_code == 404
    assert await recorder.changes(product) == Counter(
        {("created", (pid,)): 1, ("updated", (pid,)): 1, ("deleted", (pid,)): 1}
    )
    # A single product's events carry its id as their aggregate.
    assert {event.aggregate_id for event in recorder.events if pid in event.data.product_ids} == {
        str(pid)
    }


async def test_stock_moves_publish_one_event_per_transaction(api, staff, customer):
    tea = await make_product(api, staff, stock=10)
    cup = await make_product(api, staff, stock=10)
    recorder = await Recorder.after_pending(api)
    # Lines in any order: the event lists each product once, in id order.
    both = await placed(api, customer, (cup["id"], 2), (tea["id"], 1))
    tea_only = await placed(api, customer, (tea["id"], 3))
    pair = tuple(sorted((tea["id"], cup["id"])))
    assert await recorder.changes(tea, cup) == Counter(
        {("stock", pair): 1, ("stock", (tea["id"],)): 1}
    )
    recorder.events.clear()

    assert (await _act(api, customer, both["id"], "cancel", {})).status_code == 200
    # Paying and shipping move no stock: no event; a refused refund neither.
    assert (await _act(api, customer, tea_only["id"], "pay", {"method": "sandbox"})).is_success
    ship = {"carrier": "EMS", "tracking_no": "E1"}
    assert (await _act(api, staff, tea_only["id"], "ship", ship)).is_success
    assert (await _act(api, staff, tea_only["id"], "refund", {})).status_code == 409
    assert await recorder.changes(tea, cup) == Counter({("stock", pair): 1})


async def test_refund_publishes_the_stock_it_gives_back(api, staff, customer):
    tea = await make_product(api, staff, stock=5)
    order = await placed(api, customer, (tea["id"], 2))
    assert (await _act(api, customer, order["id"], "pay", {"method": "sandbox"})).is_success
    recorder = await Recorder.after_pending(api)
    assert (await _act(api, staff, order["id"], "refund", {"reason": "broken"})).is_success
    assert await recorder.changes(tea) == Counter({("stock", (tea["id"],)): 1})


async def test_refused_and_rolled_back_orders_publish_nothing(api, staff, customer):
    plenty = await make_product(api, staff, stock=10)
    scarce = await make_product(api, staff, stock=1)
    hidden = await make_product(api, staff, status="inactive")
    recorder = await Recorder.after_pending(api)
    # The plentiful line's stock is taken, then rolled back with the short one.
    short = await place(api, customer, (plenty["id"], 3), (scarce["id"], 2))
    assert short.status_code == 409
    unavailable = await place(api, customer, (plenty["id"], 1), (hidden["id"], 1))
    assert unavailable.status_code == 409
    unknown = await place(api, customer, (plenty["id"], 1), (987654321, 1))
    assert unknown.status_code == 422
    assert await stock_of(api, plenty["id"]) == 10
    assert await recorder.changes(plenty, scarce, hidden) == Counter()
    # The same recorder does see an order that commits.
    await placed(api, customer, (scarce["id"], 1))
    committed = Counter({("stock", (scarce["id"],)): 1})
    assert await recorder.changes(plenty, scarce, hidden) == committed


async def test_idempotent_retries_publish_one_event(api, staff, customer):
    product = await make_product(api, staff, stock=10)
    recorder = await Recorder.after_pending(api)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    headers = {**customer.headers, "Idempotency-Key": unique("k")}
    # Concurrent twins race to the unique idempotency record: the losers roll back (with the
    # events they had added) and replay the winner's answer.
    responses = await asyncio.gather(
        *(api.post("/api/v1/orders", json=body, headers=headers) for _ in range(4))
    )
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    await api.post("/api/v1/orders", json=body, headers=headers)  # a later replay
    assert await stock_of(api, product["id"]) == 9
    assert await recorder.changes(product) == Counter({("stock", (product["id"],)): 1})


async def test_expiry_publishes_the_stock_it_gives_back(api, staff, customer):
    product = await make_product(api, staff, stock=4)
    order = await placed(api, customer, (product["id"], 3))
    async with api.runtime.db.transaction() as uow:
        await uow.session.execute(
            update(OrderDO)
            .where(OrderDO.id == order["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    recorder = await Recorder.after_pending(api)
    assert await expire_unpaid_orders(runtime=api.runtime) >= 1
    assert await stock_of(api, product["id"]) == 4
    assert await recorder.changes(product) == Counter({("stock", (product["id"],)): 1})
