"""The asynchronous payment path: a signed, idempotent webhook."""

from __future__ import annotations

import json

from tessera.blocks.order.integration import sign_webhook
from tests.helpers import signed_in
from tests.order.conftest import make_product, placed

SECRET = "whsec-" + "k" * 40
CALLBACK = "/api/v1/payments/alipay/callback"


def _signed(body: dict, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {
        "X-Tessera-Signature": sign_webhook(secret, raw),
        "content-type": "application/json",
    }


async def _setup(api):
    staff = await signed_in(api, role="staff")
    customer = await signed_in(api)
    product = await make_product(api, staff, price="19.90", stock=5)
    order = await placed(api, customer, (product["id"], 1))
    return customer, order


WEBHOOK_SETTINGS = {
    "payment_methods": ["sandbox", "alipay"],
    "payment_webhook_secrets": {"alipay": SECRET},
}


async def test_webhook_settles_an_order_once(api_with):
    async with api_with(order=WEBHOOK_SETTINGS) as api:
        customer, order = await _setup(api)
        started = await api.post(
            f"/api/v1/orders/{order['id']}/pay", json={"method": "alipay"}, headers=customer.headers
        )
        assert started.status_code == 200
        assert started.json()["status"] == "pending_payment"
        assert started.json()["payment_method"] == "alipay"

        body = {
            "order_no": order["order_no"],
            "provider_ref": "ALI-0001",
            "amount": "19.90",
            "currency": "CNY",
            "status": "succeeded",
        }
        raw, headers = _signed(body)
        first = await api.post(CALLBACK, content=raw, headers=headers)
        assert first.status_code == 200
        assert first.json() == {"order_id": order["id"], "status": "succeeded", "duplicate": False}
        again = await api.post(CALLBACK, content=raw, headers=headers)
        assert again.status_code == 200
        assert again.json()["duplicate"] is True
        fetched = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
        assert fetched["status"] == "paid"
        history = (
            await api.get(f"/api/v1/orders/{order['id']}/history", headers=customer.headers)
        ).json()
        assert [h["to_status"] for h in history] == ["pending_payment", "paid"]
        assert history[-1]["actor"] == "payment:alipay"


async def test_webhook_rejects_bad_signatures_and_wrong_amounts(api_with):
    async with api_with(order=WEBHOOK_SETTINGS) as api:
        customer, order = await _setup(api)
        body = {
            "order_no": order["order_no"],
            "provider_ref": "ALI-0002",
            "amount": "19.90",
            "currency": "CNY",
            "status": "succeeded",
        }
        raw, _ = _signed(body, secret="not-the-secret")
        forged = await api.post(
            CALLBACK,
            content=raw,
            headers={"X-Tessera-Signature": _signed(body, "x")[1]["X-Tessera-Signature"]},
        )
        assert forged.status_code == 401
        assert forged.json()["code"] == "payment.invalid_signature"
        unsigned = await api.post(CALLBACK, content=raw)
        assert unsigned.status_code == 401

        wrong_amount = _signed({**body, "amount": "0.01"})
        response = await api.post(CALLBACK, content=wrong_amount[0], headers=wrong_amount[1])
        assert response.status_code == 422
        assert response.json()["code"] == "payment.amount_mismatch"

        unknown = _signed({**body, "order_no": "19990101000000000"})
        response = await api.post(CALLBACK, content=unknown[0], headers=unknown[1])
        assert response.status_code == 404

        garbage = b"{not json"
        response = await api.post(
            CALLBACK,
            content=garbage,
            headers={"X-Tessera-Signature": sign_webhook(SECRET, garbage)},
        )
        assert response.status_code == 422

        nobody = await api.post("/api/v1/payments/paypal/callback", content=raw)
        assert nobody.status_code == 404
        fetched = (await api.get(f"/api/v1/orders/{order['id']}", headers=customer.headers)).json()
        assert fetched["status"] == "pending_payment"


async def test_webhook_for_cancelled_order_is_409(api_with):
    async with api_with(order=WEBHOOK_SETTINGS) as api:
        customer, order = await _setup(api)
        await api.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer.headers)
        raw, headers = _signed(
            {
                "order_no": order["order_no"],
                "provider_ref": "ALI-0003",
                "amount": "19.90",
                "currency": "CNY",
                "status": "succeeded",
            }
        )
        response = await api.post(CALLBACK, content=raw, headers=headers)
        assert response.status_code == 409
        assert response.json()["code"] == "order.invalid_state"
