"""Stock never goes negative and transitions never double-apply, under real concurrency
(many connections on MariaDB; serialized writers on SQLite)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tessera.blocks.order.service import ordering
from tests.helpers import signed_in
from tests.order.conftest import make_product, place, placed, stock_of


async def _count_orders(api, product_id: int) -> int:
    from tessera.blocks.order.model.do import OrderItemDO

    async with api.runtime.db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OrderItemDO)
                .where(OrderItemDO.product_id == product_id)
            )
            or 0
        )


async def test_fifty_concurrent_orders_for_seven_items(api, staff):
    buyers = [await signed_in(api) for _ in range(5)]
    product = await make_product(api, staff, stock=7)
    responses = await asyncio.gather(
        *(place(api, buyers[i % 5], (product["id"], 1)) for i in range(50))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 7
    assert statuses.count(409) == 43
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "order.insufficient_stock"
    }
    assert await stock_of(api, product["id"]) == 0
    assert await _count_orders(api, product["id"]) == 7


async def test_two_line_orders_when_one_line_runs_out(api, staff):
    buyers = [await signed_in(api) for _ in range(5)]
    plenty = await make_product(api, staff, stock=100)
    scarce = await make_product(api, staff, stock=7)
    responses = await asyncio.gather(
        *(place(api, buyers[i % 5], (plenty["id"], 1), (scarce["id"], 1)) for i in range(50))
    )
    assert [r.status_code for r in responses].count(201) == 7
    assert await stock_of(api, scarce["id"]) == 0
    # The plentiful line was rolled back with each failed order.
    assert await stock_of(api, plenty["id"]) == 93
    assert await _count_orders(api, plenty["id"]) == 7


async def test_failure_after_stock_update_changes_nothing(api, staff, customer, monkeypatch):
    product = await make_product(api, staff, stock=5)

    async def broken_publish(*args, **kwargs):
        raise RuntimeError("injected failure before commit")

    monkeypatch.setattr(ordering, "publish", broken_publish)
    response = await place(api, customer, (product["id"], 2))
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "injected" not in response.text
    monkeypatch.undo()
    assert await stock_of(api, product["id"]) == 5
    assert await _count_orders(api, product["id"]) == 0
    assert (await api.get("/api/v1/orders", headers=customer.headers)).json()["total"] == 0


async def test_concurrent_transitions_exactly_one_wins(api, staff, customer):
    product = await make_product(api, staff, stock=20)
    order = await placed(api, customer, (product["id"], 2))
    attempts = []
    for i in range(10):
        if i % 2:
            attempts.append(
                api.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=customer.headers)
            )
        else:
            attempts.append(
                api.post(
                    f"/api/v1/orders/{order['id']}/pay",
                    json={"method": "sandbox"},
                    headers=customer.headers,
                )
            )
    responses = await asyncio.gather(*attempts)
    codes = [response.status_code for response in responses]
    assert codes.count(200) == 1
    assert codes.count(409) == 9
    winner = next(r.json() for r in responses if r.status_code == 200)
    history = (
        await api.get(f"/api/v1/orders/{order['id']}/history", headers=customer.headers)
    ).json()
    assert len(history) == 2
    assert history[-1]["to_status"] == winner["status"]
    # Stock came back exactly once if the cancel won, never twice.
    expected = 20 if winner["status"] == "cancelled" else 18
    assert await stock_of(api, product["id"]) == expected


async def test_concurrent_cancels_restore_stock_once(api, staff, customer):
    product = await make_product(api, staff, stock=3)
    order = await placed(api, customer, (product["id"], 3))
    responses = await asyncio.gather(
        *(
            api.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=customer.headers)
            for _ in range(8)
        )
    )
    assert [r.status_code for r in responses].count(200) == 1
    assert await stock_of(api, product["id"]) == 3
