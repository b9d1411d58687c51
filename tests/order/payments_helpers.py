"""Set-up for the payment tests: the app configured with the local Alipay and WeChat Pay
fakes, a staff member, a customer, a product and an order, made through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.conftest import Api, ApiFactory
from tests.fakes.alipay import FakeAlipay
from tests.fakes.payment_keys import bare_private_key, cached_key, private_pem
from tests.fakes.wechatpay import FakeWechatPay
from tests.helpers import SignedIn, signed_in
from tests.order.conftest import make_product, placed

ALIPAY_MERCHANT = "it-alipay-merchant"
WECHAT_MERCHANT = "it-wechat-merchant"
METHODS = [
    "sandbox",
    "alipay.page",
    "alipay.wap",
    "alipay.qr",
    "wechatpay.native",
    "wechatpay.jsapi",
    "wechatpay.h5",
]
ALIPAY_CALLBACK = "/api/v1/payments/alipay/callback"
WECHAT_CALLBACK = "/api/v1/payments/wechatpay/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def order_settings(alipay: FakeAlipay, wechat: FakeWechatPay, **payments: Any) -> dict[str, Any]:
    return {
        "payment_methods": METHODS,
        "payments": {
            "callback_base_url": "https://shop.example.com",
            # Tests run reconciliation by hand; every record is due at once.
            "reconcile_grace_seconds": 0,
            "alipay": {
                "app_id": alipay.app_id,
                "gateway_url": alipay.url,
                "private_key": bare_private_key(cached_key(ALIPAY_MERCHANT)),
                "alipay_public_key": alipay.alipay_public_key_pem,
                "seller_id": alipay.seller_id,
            },
            "wechatpay": {
                "mch_id": wechat.mch_id,
                "app_id": wechat.app_id,
                "private_key": private_pem(cached_key(WECHAT_MERCHANT)),
                "merchant_serial_no": wechat.merchant_serial,
                "api_v3_key": wechat.api_v3_key,
                "base_url": wechat.url,
            },
            **payments,
        },
    }


@asynccontextmanager
async def open_shop(
    api_with: ApiFactory, alipay: FakeAlipay, wechat: FakeWechatPay, **payments: Any
) -> AsyncIterator[Api]:
    async with api_with(order=order_settings(alipay, wechat, **payments)) as api:
        yield api


@dataclass
class Shop:
    api: Api
    staff: SignedIn
    customer: SignedIn
    product: dict[str, Any]

    async def order(self, quantity: int = 1) -> dict[str, Any]:
        return await placed(self.api, self.customer, (self.product["id"], quantity))

    async def pay(self, order_id: int, method: str, **extra: Any):
        headers = dict(self.customer.headers)
        if "key" in extra:
            headers["Idempotency-Key"] = extra.pop("key")
        return await self.api.post(
            f"/api/v1/orders/{order_id}/pay", json={"method": method, **extra}, headers=headers
        )

    async def get_order(self, order_id: int) -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/orders/{order_id}", headers=self.customer.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def payments(self, order_id: int) -> list[dict[str, Any]]:
        response = await self.api.get(
            f"/api/v1/orders/{order_id}/payments", headers=self.customer.headers
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    async def refunds(self, order_id: int) -> list[dict[str, Any]]:
        response = await self.api.get(
            f"/api/v1/orders/{order_id}/refunds", headers=self.staff.headers
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    async def refund(self, order_id: int, amount: str | None = None, **extra: Any):
        body: dict[str, Any] = {} if amount is None else {"amount": amount}
        body.update(extra)
        return await self.api.post(
            f"/api/v1/orders/{order_id}/refunds", json=body, headers=self.staff.headers
        )

    async def history(self, order_id: int) -> list[dict[str, Any]]:
        response = await self.api.get(
            f"/api/v1/orders/{order_id}/history", headers=self.customer.headers
        )
        return list(response.json())

    async def stock(self) -> int:
        response = await self.api.get(f"/api/v1/products/{self.product['id']}")
        return int(response.json()["stock"])


async def make_shop(api: Api, *, price: str = "19.90", stock: int = 5) -> Shop:
    staff = await signed_in(api, role="staff")
    customer = await signed_in(api)
    product = await make_product(api, staff, price=price, stock=stock)
    return Shop(api, staff, customer, product)
