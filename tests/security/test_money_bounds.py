"""Issue 9 item 10: an order whose line or order total would not fit the money columns
(DECIMAL(12, 2): at most 9,999,999,999.99) is refused with a clear 422, never a 500 (MariaDB)
nor a silently stored overflow (SQLite); nothing is reserved."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.helpers import signed_in, unique


async def product_at(api: Api, price: str, stock: int = 100) -> dict:
    staff = await signed_in(api, role="staff")
    response = await api.post(
        "/api/v1/products",
        json={"sku": unique("S"), "name": "Gold", "price": price, "stock": stock},
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("prices", "quantities"),
    [
        (["9999999999.99"], [2]),  # one line overflows
        (["6000000000.00", "6000000000.00"], [1, 1]),  # the lines fit, the order does not
    ],
    ids=["line", "order"],
)
async def test_totals_beyond_the_money_columns_are_422(
    api: Api, prices: list[str], quantities: list[int]
):
    products = [await product_at(api, price) for price in prices]
    buyer = await signed_in(api)
    lines = [
        {"product_id": product["id"], "quantity": quantity}
        for product, quantity in zip(products, quantities, strict=True)
    ]
    response = await api.post("/api/v1/orders", json={"items": lines}, headers=buyer.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "order.amount_out_of_range"
    for product in products:  # nothing reserved
        stock = (await api.get(f"/api/v1/products/{product['id']}")).json()["stock"]
        assert stock == 100
    listed = await api.get("/api/v1/orders", headers=buyer.headers)
    assert listed.json()["total"] == 0


async def test_the_largest_total_that_fits_is_accepted(api: Api):
    product = await product_at(api, "9999999.99", stock=1000)
    buyer = await signed_in(api)
    response = await api.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product["id"], "quantity": 999}]},
        headers=buyer.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["total"] == "9989999990.01"
