"""Placing and reading orders: snapshots, validation, idempotency, visibility."""

from __future__ import annotations

import pytest

from tests.order.conftest import make_product, place, placed, stock_of


async def test_order_snapshots_prices_and_takes_stock(api, staff, customer):
    tea = await make_product(api, staff, price="12.50", stock=10)
    cup = await make_product(api, staff, name="Cup 杯子", price="3.10", stock=5)
    response = await place(
        api, customer, (tea["id"], 2), (cup["id"], 3), shipping_address="上海市 1号", note="gift"
    )
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending_payment"
    assert order["user_id"] == customer.id
    assert order["total"] == "34.30"
    assert order["currency"] == "CNY"
    assert order["shipping_address"] == "上海市 1号"
    assert [
        (i["product_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]
    ] == [
        (tea["id"], 2, "12.50", "25.00"),
        (cup["id"], 3, "3.10", "9.30"),
    ]
    assert order["items"][1]["name"] == "Cup 杯子"
    assert len(order["order_no"]) >= 16
    assert await stock_of(api, tea["id"]) == 8
    assert await stock_of(api, cup["id"]) == 2

    # A later price change does not touch the order.
    await api.patch(f"/api/v1/products/{tea['id']}", json={"price": "99.00"}, headers=staff.headers)
    again = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert again["items"][0]["unit_price"] == "12.50"
    assert again["total"] == "34.30"


async def test_deleted_product_stays_readable_in_old_orders(api, staff, customer):
    product = await make_product(api, staff, name="Limited edition")
    order = await placed(api, customer, (product["id"], 1))
    await api.delete(f"/api/v1/products/{product['id']}", headers=staff.headers)
    fetched = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert fetched["items"][0]["name"] == "Limited edition"
    assert fetched["items"][0]["sku"] == product["sku"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": []}, "request.validation_failed"),
        ({"items": [{"product_id": 1, "quantity": 0}]}, "request.validation_failed"),
        ({"items": [{"product_id": 1, "quantity": 1000}]}, "request.validation_failed"),
        ({"items": [{"product_id": 1, "quantity": "two"}]}, "request.validation_failed"),
        ({"items": [{"product_id": 1}]}, "request.validation_failed"),
        # A rule the schema cannot state: its own code.
        (
            {"items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]},
            "order.duplicate_product",
        ),
        ({"items": [{"product_id": 1, "quantity": 1.0}]}, "request.integer_required"),
        ({}, "request.validation_failed"),
    ],
)
async def test_invalid_order_bodies_are_422(api, customer, body, code):
    response = await api.post("/api/v1/orders", json=body, headers=customer.headers)
    assert response.status_code == 422, body
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["loc"][:2] == ["body", "items"]


async def test_unknown_product_is_422_and_inactive_is_409(api, staff, customer):
    product = await make_product(api, staff, stock=5)
    unknown = await place(api, customer, (product["id"], 1), (987654321, 1))
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "order.unknown_product"
    off = await make_product(api, staff, status="inactive")
    inactive = await place(api, customer, (product["id"], 1), (off["id"], 1))
    assert inactive.status_code == 409
    assert inactive.json()["code"] == "order.product_unavailable"
    assert await stock_of(api, product["id"]) == 5


async def test_short_line_fails_the_whole_order_naming_the_product(api, staff, customer):
    plenty = await make_product(api, staff, stock=10)
    scarce = await make_product(api, staff, stock=1)
    response = await place(api, customer, (plenty["id"], 3), (scarce["id"], 2))
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "order.insufficient_stock"
    assert problem["product_id"] == scarce["id"]
    assert scarce["sku"] in problem["detail"]
    assert await stock_of(api, plenty["id"]) == 10
    assert await stock_of(api, scarce["id"]) == 1
    mine = (await api.get("/api/v1/orders", headers=customer.headers)).json()
    assert mine["total"] == 0


async def test_idempotency_key_replays_the_first_answer(api, staff, customer):
    product = await make_product(api, staff, stock=5)
    body = {"items": [{"product_id": product["id"], "quantity": 2}]}
    headers = {**customer.headers, "Idempotency-Key": "checkout-42"}
    first = await api.post("/api/v1/orders", json=body, headers=headers)
    second = await api.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await stock_of(api, product["id"]) == 3
    assert (await api.get("/api/v1/orders", headers=customer.headers)).json()["total"] == 1

    other_body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    reused = await api.post("/api/v1/orders", json=other_body, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency.key_reused"
    assert await stock_of(api, product["id"]) == 3


async def test_idempotency_keys_are_per_user(api, staff, customer):
    from tests.helpers import signed_in

    other = await signed_in(api)
    product = await make_product(api, staff, stock=5)
    body = {"items": [{"product_id": product["id"], "quantity": 1}]}
    mine = await api.post(
        "/api/v1/orders", json=body, headers={**customer.headers, "Idempotency-Key": "k1"}
    )
    theirs = await api.post(
        "/api/v1/orders", json=body, headers={**other.headers, "Idempotency-Key": "k1"}
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


async def test_other_customers_order_is_404(api, staff, customer):
    from tests.helpers import signed_in

    stranger = await signed_in(api)
    product = await make_product(api, staff)
    order = await placed(api, customer, (product["id"], 1))
    for method, path, body in [
        ("GET", f"/api/v1/orders/{order['id']}", None),
        ("GET", f"/api/v1/orders/{order['id']}/history", None),
        ("POST", f"/api/v1/orders/{order['id']}/pay", {"method": "sandbox"}),
        ("POST", f"/api/v1/orders/{order['id']}/cancel", {"reason": "mine now"}),
        ("POST", f"/api/v1/orders/{order['id']}/complete", None),
    ]:
        response = await api.request(method, path, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "order.not_found"
    still = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
    assert still["status"] == "pending_payment"
    assert (await api.get("/api/v1/orders/999999999", headers=customer.headers)).status_code == 404


async def test_lists_show_own_orders_and_staff_see_all(api, staff, customer):
    from tests.helpers import signed_in

    other = await signed_in(api)
    product = await make_product(api, staff, stock=20)
    mine = [await placed(api, customer, (product["id"], 1)) for _ in range(3)]
    theirs = await placed(api, other, (product["id"], 1))
    listed = (await api.get("/api/v1/orders", headers=customer.headers)).json()
    assert listed["total"] == 3
    assert [o["id"] for o in listed["items"]] == [o["id"] for o in reversed(mine)]
    sneaky = (
        await api.get("/api/v1/orders", params={"user_id": other.id}, headers=customer.headers)
    ).json()
    assert sneaky["total"] == 0
    by_staff = (
        await api.get("/api/v1/orders", params={"user_id": other.id}, headers=staff.headers)
    ).json()
    assert [o["id"] for o in by_staff["items"]] == [theirs["id"]]
    await api.post(f"/api/v1/orders/{mine[0]['id']}/cancel", headers=customer.headers)
    cancelled = (
        await api.get("/api/v1/orders", params={"status": "cancelled"}, headers=customer.headers)
    ).json()
    assert [o["id"] for o in cancelled["items"]] == [mine[0]["id"]]
    bad = await api.get("/api/v1/orders", params={"status": "lost"}, headers=customer.headers)
    assert bad.status_code == 422


async def test_orders_need_a_signed_in_user(api):
    assert (await api.post("/api/v1/orders", json={"items": []})).status_code == 401
    assert (await api.get("/api/v1/orders")).status_code == 401


async def test_openapi_documents_the_placed_order(api):
    spec = (await api.get("/openapi.json")).json()
    created = spec["paths"]["/api/v1/orders"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderOut"
    }
    assert "Idempotent-Replayed" in created["headers"]
    assert "200" not in spec["paths"]["/api/v1/orders"]["post"]["responses"]
