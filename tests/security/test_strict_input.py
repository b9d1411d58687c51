"""Issue 9 item 11: money and integers are parsed strictly. Money is a decimal string of
ASCII digits with at most two decimals; quantities, stock and ids are JSON integers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import signed_in, unique

FULL_WIDTH_PRICE = "\uff11\uff12.\uff15\uff10"  # 12.50 in full-width digits


async def create_product(api: Api, headers: dict[str, str], **fields: Any):
    body = {"sku": unique("S"), "name": "Tea", "price": "12.50", "stock": 5, **fields}
    return await api.post("/api/v1/products", json=body, headers=headers)


@pytest.mark.parametrize(
    "price",
    [
        " 12.50",
        "12.50 ",
        FULL_WIDTH_PRICE,
        "1e3",
        "NaN",
        "Infinity",
        "+12.50",
        "12.",
        ".5",
        "0x10",
        "1_000",
        "12,50",
        12.5,
        12,
        True,
        None,
    ],
)
async def test_loose_prices_are_refused(api: Api, price: Any):
    staff = await signed_in(api, role="staff")
    response = await create_product(api, staff.headers, price=price)
    assert response.status_code == 422, (price, response.text)
    assert response.json()["errors"][0]["loc"][-1] == "price"


@pytest.mark.parametrize("price", ["12.50", "12.5", "12", "0.01", "9999999999.99"])
async def test_plain_prices_are_accepted(api: Api, price: str):
    staff = await signed_in(api, role="staff")
    response = await create_product(api, staff.headers, price=price)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("stock", ["5", True, 5.0, "\uff15"])
async def test_stock_must_be_a_json_integer(api: Api, stock: Any):
    staff = await signed_in(api, role="staff")
    response = await create_product(api, staff.headers, stock=stock)
    assert response.status_code == 422, (stock, response.text)


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": "1"},
        {"quantity": True},
        {"quantity": 1.0},
        {"quantity": "\uff11"},
        {"product_id": "1"},
        {"product_id": True},
        {"product_id": 1.0},
    ],
)
async def test_order_lines_take_json_integers_only(api: Api, line: dict[str, Any]):
    staff = await signed_in(api, role="staff")
    product = (await create_product(api, staff.headers)).json()
    customer = await signed_in(api)
    item = {"product_id": product["id"], "quantity": 1, **line}
    response = await api.post("/api/v1/orders", json={"items": [item]}, headers=customer.headers)
    assert response.status_code == 422, (line, response.text)
    stock = (await api.get(f"/api/v1/products/{product['id']}")).json()["stock"]
    assert stock == 5
