"""Order-block test helpers: a staff member, products and orders made through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio

from tests.fakes.alipay import FakeAlipay
from tests.fakes.payment_keys import cached_key
from tests.fakes.wechatpay import FakeWechatPay
from tests.helpers import SignedIn, signed_in, unique


@pytest_asyncio.fixture
async def staff(api) -> SignedIn:
    return await signed_in(api, role="staff")


@pytest_asyncio.fixture
async def customer(api) -> SignedIn:
    return await signed_in(api)


async def make_product(api, staff: SignedIn, **fields: Any) -> dict[str, Any]:
    body = {"sku": unique("SKU-"), "name": "Green tea 绿茶", "price": "12.50", "stock": 10}
    body.update(fields)
    response = await api.post("/api/v1/products", json=body, headers=staff.headers)
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


async def place(api, user: SignedIn, *lines: tuple[int, int], **extra: Any):
    body = {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines], **extra}
    return await api.post("/api/v1/orders", json=body, headers=user.headers)


async def placed(api, user: SignedIn, *lines: tuple[int, int]) -> dict[str, Any]:
    response = await place(api, user, *lines)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def stock_of(api, product_id: int) -> int:
    response = await api.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["stock"])


@pytest.fixture
def alipay_fake() -> Iterator[FakeAlipay]:
    fake = FakeAlipay(merchant_key=cached_key("it-alipay-merchant").public_key()).start()
    yield fake
    fake.stop()


@pytest.fixture
def wechat_fake() -> Iterator[FakeWechatPay]:
    fake = FakeWechatPay(merchant_key=cached_key("it-wechat-merchant").public_key()).start()
    yield fake
    fake.stop()
