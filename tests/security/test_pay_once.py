"""Issue 9 item 16: paying cannot charge twice. The transition is reserved before the
provider is charged, so two concurrent pays charge once; `Idempotency-Key` replays the
first answer and refuses the same key with another request."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tessera.blocks.order import integration
from tests.conftest import Api
from tests.helpers import signed_in, unique


class Charges(list[str]):
    """Every charge the sandbox provider makes; `started` is set at the first one. A test
    that clears `released` holds every charge in flight until it sets it again."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.released = asyncio.Event()
        self.released.set()


@pytest.fixture
def charges(monkeypatch: pytest.MonkeyPatch) -> Charges:
    """Each charge takes a moment, like a real provider's round trip."""
    made = Charges()
    real = integration.SandboxProvider.charge

    async def charge(self, *, order_no: str, amount: Decimal, currency: str):
        made.append(order_no)
        made.started.set()
        await asyncio.sleep(0.05)  # the provider's round trip, so the requests overlap
        await made.released.wait()
        return await real(self, order_no=order_no, amount=amount, currency=currency)

    monkeypatch.setattr(integration.SandboxProvider, "charge", charge)
    return made


async def an_order(api: Api) -> tuple[dict, dict[str, str]]:
    staff = await signed_in(api, role="staff")
    product = await api.post(
        "/api/v1/products",
        json={"sku": unique("S"), "name": "Tea", "price": "3.00", "stock": 10},
        headers=staff.headers,
    )
    buyer = await signed_in(api)
    order = await api.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product.json()["id"], "quantity": 1}]},
        headers=buyer.headers,
    )
    assert order.status_code == 201, order.text
    return order.json(), buyer.headers


def pay(api: Api, order: dict, headers: dict[str, str], key: str | None = None, method="sandbox"):
    extra = {"Idempotency-Key": key} if key else {}
    return api.post(
        f"/api/v1/orders/{order['id']}/pay", json={"method": method}, headers={**headers, **extra}
    )


async def test_two_concurrent_pays_charge_once(api: Api, charges: Charges):
    order, headers = await an_order(api)
    first, second = await asyncio.gather(pay(api, order, headers), pay(api, order, headers))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    refused = first if first.status_code == 409 else second
    assert refused.json()["code"] in ("order.payment_in_progress", "order.invalid_state")
    assert charges == [order["order_no"]]
    shown = await api.get(f"/api/v1/orders/{order['id']}", headers=headers)
    assert shown.json()["status"] == "paid"


async def test_idempotency_key_replays_the_first_answer(api: Api, charges: Charges):
    order, headers = await an_order(api)
    key = unique("pay")
    first = await pay(api, order, headers, key)
    assert first.status_code == 200, first.text
    again = await pay(api, order, headers, key)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert charges == [order["order_no"]]
    other = await pay(api, order, headers, key, method="card")
    assert other.status_code in (409, 422)
    assert other.json()["code"] == "idempotency.key_reused"


async def test_concurrent_pays_with_one_key_charge_once(api: Api, charges: Charges):
    order, headers = await an_order(api)
    key = unique("pay")
    answers = await asyncio.gather(*(pay(api, order, headers, key) for _ in range(5)))
    assert {answer.status_code for answer in answers} <= {200, 409}
    assert any(answer.status_code == 200 for answer in answers)
    assert charges == [order["order_no"]]


async def test_a_failed_charge_leaves_the_order_payable(api: Api, monkeypatch: pytest.MonkeyPatch):
    order, headers = await an_order(api)
    calls = []

    async def failing(self, *, order_no: str, amount: Decimal, currency: str):
        calls.append(order_no)
        raise ConnectionError("provider unreachable")

    monkeypatch.setattr(integration.SandboxProvider, "charge", failing)
    failed = await pay(api, order, headers)
    assert failed.status_code == 503, failed.text
    assert failed.json()["code"] == "payment.provider_unavailable"
    assert calls == [order["order_no"]]
    monkeypatch.undo()
    paid = await pay(api, order, headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"


async def test_expiry_never_cancels_an_order_being_charged(api: Api, charges: Charges):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from tessera.blocks.order import service as order_service
    from tessera.blocks.order.model.do import OrderDO

    order, headers = await an_order(api)
    async with api.runtime.db.transaction() as uow:  # its payment deadline has passed
        await uow.session.execute(
            update(OrderDO)
            .where(OrderDO.id == order["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    charges.released.clear()  # the provider answers only when the test says so
    paying = asyncio.create_task(pay(api, order, headers))
    await charges.started.wait()  # the provider is being called
    # Expiry runs while the charge is in flight (other tests' orders may expire too); it
    # either waits for the payment or finds the order being paid, never cancels it.
    expiring = asyncio.create_task(order_service.expire_unpaid_orders(runtime=api.runtime))
    await asyncio.wait({expiring}, timeout=0.3)
    charges.released.set()
    paid = await paying
    await expiring
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    history = await api.get(f"/api/v1/orders/{order['id']}/history", headers=headers)
    assert [step["to_status"] for step in history.json()] == ["pending_payment", "paid"]
    assert charges == [order["order_no"]]
