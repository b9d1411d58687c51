"""Refunds through Alipay and WeChat Pay, partial and full, with their own state and events;
the order follows the provider's answer, not the request. Both databases."""

from __future__ import annotations

from sqlalchemy import select

from tessera.blocks.order.service import reconcile_payments
from tessera.lib.tasks.outbox import OutboxEventDO
from tests.order.payments_helpers import (
    ALIPAY_CALLBACK,
    FORM,
    WECHAT_CALLBACK,
    Shop,
    make_shop,
    open_shop,
)


async def _paid(shop: Shop, method: str, fake, quantity: int = 1) -> tuple[dict, dict]:
    order = await shop.order(quantity)
    payment = (await shop.pay(order["id"], method)).json()["payment"]
    if method.startswith("alipay"):
        body = fake.pay(payment["out_trade_no"])
        answer = await shop.api.post(ALIPAY_CALLBACK, content=body, headers=FORM)
    else:
        headers, body = fake.pay(payment["out_trade_no"])
        answer = await shop.api.post(WECHAT_CALLBACK, content=body, headers=headers)
    assert answer.status_code in (200, 204), answer.text
    return order, payment


async def _topics(shop: Shop, order_id: int) -> list[str]:
    async with shop.api.runtime.db.read() as session:
        rows = await session.execute(
            select(OutboxEventDO.topic)
            .where(OutboxEventDO.aggregate_id == str(order_id))
            .order_by(OutboxEventDO.id)
        )
        return list(rows.scalars())


async def test_partial_then_full_wechat_refunds_follow_the_provider(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api, stock=5)
        order, _ = await _paid(shop, "wechatpay.native", wechat_fake, quantity=2)
        assert await shop.stock() == 3

        part = await shop.refund(order["id"], "5.00", reason="one cup chipped")
        assert part.status_code == 201, part.text
        first = part.json()
        assert (first["status"], first["amount"], first["automatic"]) == ("pending", "5.00", False)
        assert first["out_refund_no"] == f"{order['order_no']}R01"
        assert wechat_fake.refunds[first["out_refund_no"]].refund == 500
        # Until WeChat Pay says so, nothing is refunded.
        current = await shop.get_order(order["id"])
        assert (current["status"], current["refunded_amount"]) == ("paid", "0.00")

        headers, body = wechat_fake.settle_refund(first["out_refund_no"])
        assert (await api.post(WECHAT_CALLBACK, content=body, headers=headers)).status_code == 204
        current = await shop.get_order(order["id"])
        assert (current["status"], current["refunded_amount"]) == ("paid", "5.00")

        too_much = await shop.refund(order["id"], "40.00")
        assert too_much.status_code == 409
        assert too_much.json()["code"] == "refund.exceeds_payment"
        assert too_much.json()["refundable"] == "34.80"

        rest = (await shop.refund(order["id"])).json()  # everything left
        assert (rest["amount"], rest["status"]) == ("34.80", "pending")
        headers, body = wechat_fake.settle_refund(rest["out_refund_no"])
        await api.post(WECHAT_CALLBACK, content=body, headers=headers)
        current = await shop.get_order(order["id"])
        assert (current["status"], current["refunded_amount"]) == ("refunded", "39.80")
        assert await shop.stock() == 5  # a full refund of a paid order returns the stock
        history = await shop.history(order["id"])
        assert (history[-1]["to_status"], history[-1]["actor"]) == ("refunded", "payment:wechatpay")
        topics = await _topics(shop, order["id"])
        assert topics.count("order.refund_succeeded") == 2
        assert topics.count("order.refunded") == 1
        refunds = await shop.refunds(order["id"])
        assert [r["status"] for r in refunds] == ["succeeded", "succeeded"]


async def test_an_alipay_refund_succeeds_at_once_and_the_old_endpoint_refunds_all(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api, stock=2)
        order, payment = await _paid(shop, "alipay.qr", alipay_fake)
        refunded = await api.post(
            f"/api/v1/orders/{order['id']}/refund",
            json={"reason": "customer changed their mind"},
            headers=shop.staff.headers,
        )
        assert refunded.status_code == 200, refunded.text
        assert refunded.json()["status"] == "refunded"
        assert refunded.json()["refunded_amount"] == "19.90"
        assert await shop.stock() == 2
        [refund] = await shop.refunds(order["id"])
        assert (refund["status"], refund["amount"]) == ("succeeded", "19.90")
        assert alipay_fake.trades[payment["out_trade_no"]].refunds == {
            refund["out_refund_no"]: "19.90"
        }
        # Alipay's refund notification afterwards changes nothing.
        notice = alipay_fake.refund_notification(payment["out_trade_no"], refund["out_refund_no"])
        answer = await api.post(ALIPAY_CALLBACK, content=notice, headers=FORM)
        assert (answer.status_code, answer.text) == (200, "success")
        assert len(await shop.refunds(order["id"])) == 1


async def test_a_refused_refund_fails_and_the_order_keeps_its_payment(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order, _ = await _paid(shop, "alipay.qr", alipay_fake)
        alipay_fake.refund_rejection = "ACQ.SELLER_BALANCE_NOT_ENOUGH"
        failed = (await shop.refund(order["id"], "10.00")).json()
        assert failed["status"] == "failed"
        assert "ACQ.SELLER_BALANCE_NOT_ENOUGH" in failed["detail"]
        current = await shop.get_order(order["id"])
        assert (current["status"], current["refunded_amount"]) == ("paid", "0.00")
        assert "order.refund_failed" in await _topics(shop, order["id"])
        # A failed refund does not count: the whole amount can still be refunded.
        alipay_fake.refund_rejection = None
        retried = (await shop.refund(order["id"])).json()
        assert (retried["status"], retried["amount"]) == ("succeeded", "19.90")

        wx_order, _ = await _paid(shop, "wechatpay.native", wechat_fake)
        wechat_fake.refund_outcome = "NOT_ENOUGH"
        refused = (await shop.refund(wx_order["id"])).json()
        assert refused["status"] == "failed"
        wechat_fake.refund_outcome = "PROCESSING"
        accepted = (await shop.refund(wx_order["id"])).json()
        headers, body = wechat_fake.settle_refund(accepted["out_refund_no"], "ABNORMAL")
        assert (await api.post(WECHAT_CALLBACK, content=body, headers=headers)).status_code == 204
        statuses = [r["status"] for r in await shop.refunds(wx_order["id"])]
        assert statuses == ["failed", "failed"]
        assert (await shop.get_order(wx_order["id"]))["status"] == "paid"


async def test_refunds_wait_out_a_provider_outage_and_missed_refund_callbacks(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order, _ = await _paid(shop, "wechatpay.native", wechat_fake)
        wechat_fake.down = True
        waiting = (await shop.refund(order["id"], "9.90")).json()
        assert waiting["status"] == "requested"  # recorded, sent when WeChat Pay is back
        assert wechat_fake.refunds == {}
        wechat_fake.down = False
        await reconcile_payments(runtime=api.runtime)
        [refund] = await shop.refunds(order["id"])
        assert refund["status"] == "pending"
        wechat_fake.settle_refund(refund["out_refund_no"])  # its callback is lost
        await reconcile_payments(runtime=api.runtime)
        [refund] = await shop.refunds(order["id"])
        assert refund["status"] == "succeeded"
        assert (await shop.get_order(order["id"]))["refunded_amount"] == "9.90"


async def test_refunds_are_for_staff_and_replayed_by_key(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order, _ = await _paid(shop, "alipay.qr", alipay_fake)
        mine = await api.post(
            f"/api/v1/orders/{order['id']}/refunds", json={}, headers=shop.customer.headers
        )
        assert mine.status_code == 403
        headers = {**shop.staff.headers, "Idempotency-Key": "refund-1"}
        url = f"/api/v1/orders/{order['id']}/refunds"
        first = await api.post(url, json={"amount": "1.00"}, headers=headers)
        again = await api.post(url, json={"amount": "1.00"}, headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert len(alipay_fake.trades[next(iter(alipay_fake.trades))].refunds) == 1
        money = await api.post(url, json={"amount": 1}, headers=shop.staff.headers)
        assert money.status_code == 422  # money is a decimal string, never a JSON number
