"""Paying orders with Alipay and WeChat Pay through the API, against the local fakes, on both
databases: pay, callbacks (duplicate, forged, tampered, wrong amount), concurrency and
Idempotency-Key, a provider that is down, missed callbacks recovered by reconciliation, and
payments that arrive after the order was cancelled."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import update

from tessera.blocks.order.model.do import OrderDO
from tessera.blocks.order.service import expire_unpaid_orders, reconcile_payments
from tessera.lib.db import utcnow
from tests.helpers import drain
from tests.order.payments_helpers import (
    ALIPAY_CALLBACK,
    FORM,
    WECHAT_CALLBACK,
    make_shop,
    open_shop,
)


async def test_alipay_qr_pay_then_a_notification_settles_the_order_once(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        started = await shop.pay(order["id"], "alipay.qr")
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["status"] == "pending_payment"
        assert body["payment_method"] == "alipay.qr"
        payment = body["payment"]
        assert payment["status"] == "started"
        assert payment["amount"] == "19.90"
        assert payment["checkout"]["qr_code_url"].startswith("https://qr.alipay.com/")
        assert alipay_fake.rejected_signatures == 0
        trade_no = payment["out_trade_no"]
        assert trade_no == f"{order['order_no']}P01"

        notification = alipay_fake.pay(trade_no)
        first = await api.post(ALIPAY_CALLBACK, content=notification, headers=FORM)
        assert (first.status_code, first.text) == (200, "success")
        again = await api.post(ALIPAY_CALLBACK, content=notification, headers=FORM)
        assert (again.status_code, again.text) == (200, "success")

        assert (await shop.get_order(order["id"]))["status"] == "paid"
        history = await shop.history(order["id"])
        assert [h["to_status"] for h in history] == ["pending_payment", "paid"]
        assert history[-1]["actor"] == "payment:alipay"
        [recorded] = await shop.payments(order["id"])
        assert recorded["status"] == "paid"
        assert recorded["transaction_id"] == alipay_fake.trades[trade_no].trade_no
        assert recorded["checkout"] is None  # nothing left to pay


async def test_wechat_native_pay_then_a_callback_settles_the_order_once(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order(quantity=2)
        started = await shop.pay(order["id"], "wechatpay.native")
        assert started.status_code == 200, started.text
        payment = started.json()["payment"]
        assert payment["checkout"]["qr_code_url"].startswith("weixin://wxpay/bizpayurl")
        assert wechat_fake.trades[payment["out_trade_no"]].total == 3980
        headers, body = wechat_fake.pay(payment["out_trade_no"])
        for _ in range(2):  # WeChat Pay retries; the second changes nothing
            answer = await api.post(WECHAT_CALLBACK, content=body, headers=headers)
            assert answer.status_code == 204, answer.text
        assert (await shop.get_order(order["id"]))["status"] == "paid"
        assert [h["to_status"] for h in await shop.history(order["id"])] == [
            "pending_payment",
            "paid",
        ]
        # order.paid goes out through the outbox exactly once.
        assert await drain(api) >= 1


async def test_other_channels_answer_what_their_buyer_needs(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        page = (await shop.pay((await shop.order())["id"], "alipay.page")).json()["payment"]
        query = dict(parse_qsl(urlsplit(page["checkout"]["redirect_url"]).query))
        assert query == page["checkout"]["form"]["fields"]
        assert query["method"] == "alipay.trade.page.pay"
        assert query["notify_url"] == "https://shop.example.com" + ALIPAY_CALLBACK
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(page["checkout"]["redirect_url"])).status_code == 200
        assert alipay_fake.rejected_signatures == 0

        jsapi_order = await shop.order()
        refused = await shop.pay(jsapi_order["id"], "wechatpay.jsapi")
        assert refused.status_code == 422
        assert refused.json()["code"] == "payment.openid_required"
        sheet = (await shop.pay(jsapi_order["id"], "wechatpay.jsapi", openid="oUpF8uMu")).json()
        assert set(sheet["payment"]["checkout"]["jsapi"]) == {
            "appId",
            "timeStamp",
            "nonceStr",
            "package",
            "signType",
            "paySign",
        }

        h5 = (await shop.pay((await shop.order())["id"], "wechatpay.h5")).json()["payment"]
        assert "prepay_id=" in h5["checkout"]["redirect_url"]
        h5_trade = wechat_fake.trades[h5["out_trade_no"]]
        assert h5_trade.channel == "h5"

        methods = (await api.get("/api/v1/payments/methods")).json()
        assert {m["method"]: m["returns"] for m in methods}["alipay.page"] == [
            "redirect_url",
            "form",
        ]


async def test_paying_twice_or_concurrently_starts_one_trade(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        answers = await asyncio.gather(
            *(shop.pay(order["id"], "wechatpay.native") for _ in range(4))
        )
        assert {a.status_code for a in answers} <= {200, 409}
        ok = [a.json() for a in answers if a.status_code == 200]
        assert ok
        assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
            "order.payment_in_progress"
        }
        assert len(wechat_fake.trades) == 1
        again = await shop.pay(order["id"], "wechatpay.native")
        assert again.json()["payment"]["out_trade_no"] == ok[0]["payment"]["out_trade_no"]
        assert len(wechat_fake.trades) == 1
        assert len(await shop.payments(order["id"])) == 1


async def test_an_idempotency_key_replays_the_first_answer(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        first = await shop.pay(order["id"], "alipay.qr", key="pay-1")
        replay = await shop.pay(order["id"], "alipay.qr", key="pay-1")
        assert replay.status_code == 200
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json() == first.json()
        other = await shop.pay(order["id"], "wechatpay.native", key="pay-1")
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency.key_reused"
        # Two keys with concurrent requests: still one trade per method.
        await asyncio.gather(
            shop.pay(order["id"], "wechatpay.native", key="pay-2"),
            shop.pay(order["id"], "wechatpay.native", key="pay-3"),
        )
        assert len(wechat_fake.trades) == 1


async def test_switching_method_closes_the_earlier_trade(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        qr = (await shop.pay(order["id"], "alipay.qr")).json()["payment"]
        native = (await shop.pay(order["id"], "wechatpay.native")).json()["payment"]
        assert native["out_trade_no"].endswith("P02")
        statuses = {p["out_trade_no"]: p["status"] for p in await shop.payments(order["id"])}
        assert statuses[qr["out_trade_no"]] == "superseded"
        await reconcile_payments(runtime=api.runtime)
        assert alipay_fake.trades[qr["out_trade_no"]].status == "TRADE_CLOSED"
        statuses = {p["out_trade_no"]: p["status"] for p in await shop.payments(order["id"])}
        assert statuses == {qr["out_trade_no"]: "closed", native["out_trade_no"]: "started"}


async def test_forged_or_tampered_callbacks_are_refused_and_change_nothing(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        ali = (await shop.pay(order["id"], "alipay.qr")).json()["payment"]
        notification = alipay_fake.pay(ali["out_trade_no"])
        tampered = notification.replace(
            b"trade_status=TRADE_SUCCESS", b"trade_status=TRADE_SUCCESS "
        )
        refused = await api.post(ALIPAY_CALLBACK, content=tampered, headers=FORM)
        assert (refused.status_code, refused.text) == (401, "fail")
        forged = await api.post(
            ALIPAY_CALLBACK,
            content=b"out_trade_no="
            + ali["out_trade_no"].encode()
            + b"&trade_status=TRADE_SUCCESS",
            headers=FORM,
        )
        assert forged.status_code == 401

        other = await shop.order()
        wx = (await shop.pay(other["id"], "wechatpay.native")).json()["payment"]
        headers, body = wechat_fake.pay(wx["out_trade_no"])
        probe = dict(headers, **{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + "A" * 40})
        answer = await api.post(WECHAT_CALLBACK, content=body, headers=probe)
        assert answer.status_code == 401
        assert answer.json() == {"code": "FAIL", "message": "verification failed"}
        answer = await api.post(
            WECHAT_CALLBACK, content=body.replace(b"encrypt-resource", b"plain"), headers=headers
        )
        assert answer.status_code == 401

        for placed_order in (order, other):
            assert (await shop.get_order(placed_order["id"]))["status"] == "pending_payment"
            [attempt] = await shop.payments(placed_order["id"])
            assert attempt["status"] == "started"


async def test_a_callback_for_another_amount_is_logged_and_refused(
    api_with, alipay_fake, wechat_fake, capfd
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        ali = (await shop.pay(order["id"], "alipay.qr")).json()["payment"]
        alipay_fake.pay(ali["out_trade_no"])
        # Genuinely signed by "Alipay", but for one fen: never applied.
        cheap = alipay_fake.notification(ali["out_trade_no"], total_amount="0.01")
        answer = await api.post(ALIPAY_CALLBACK, content=cheap, headers=FORM)
        assert (answer.status_code, answer.text) == (409, "fail")
        assert (await shop.get_order(order["id"]))["status"] == "pending_payment"
        assert "payment_amount_mismatch" in capfd.readouterr().err

        wx_order = await shop.order()
        wx = (await shop.pay(wx_order["id"], "wechatpay.native")).json()["payment"]
        headers, body = wechat_fake.callback(
            "TRANSACTION.SUCCESS",
            "transaction",
            {
                "mchid": wechat_fake.mch_id,
                "appid": wechat_fake.app_id,
                "out_trade_no": wx["out_trade_no"],
                "transaction_id": "4200000000000000000000000001",
                "trade_state": "SUCCESS",
                "amount": {"total": 1990, "currency": "USD"},
            },
        )
        answer = await api.post(WECHAT_CALLBACK, content=body, headers=headers)
        assert answer.status_code == 409
        assert (await shop.get_order(wx_order["id"]))["status"] == "pending_payment"
        # A trade Tessera never started: refused too.
        headers, body = wechat_fake.callback(
            "TRANSACTION.SUCCESS",
            "transaction",
            {
                "mchid": wechat_fake.mch_id,
                "appid": wechat_fake.app_id,
                "out_trade_no": "20990101000000000000P01",
                "transaction_id": "4200000000000000000000000002",
                "trade_state": "SUCCESS",
                "amount": {"total": 1990, "currency": "CNY"},
            },
        )
        assert (await api.post(WECHAT_CALLBACK, content=body, headers=headers)).status_code == 404


async def test_a_provider_that_cannot_be_reached_is_a_503_and_nothing_is_written(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        wechat_fake.stop()
        down = await shop.pay(order["id"], "wechatpay.native", key="try-1")
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["code"] == "payment.provider_unavailable"
        assert down.headers["Retry-After"]
        assert await shop.payments(order["id"]) == []
        current = await shop.get_order(order["id"])
        assert (current["status"], current["payment_method"]) == ("pending_payment", None)
        # Back up: the same key goes through (it was not spent on the failure).
        wechat_fake.restart()
        again = await shop.pay(order["id"], "wechatpay.native", key="try-1")
        assert again.status_code == 200, again.text
        assert again.headers.get("Idempotent-Replayed") is None


async def test_a_provider_answering_503_leaves_a_trade_for_reconciliation_to_close(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        alipay_fake.down = True
        down = await shop.pay(order["id"], "alipay.qr")
        assert down.status_code == 503
        [abandoned] = await shop.payments(order["id"])
        assert abandoned["status"] == "abandoned"
        assert abandoned["checkout"] is None
        assert (await shop.get_order(order["id"]))["status"] == "pending_payment"
        alipay_fake.down = False
        retried = await shop.pay(order["id"], "alipay.qr")
        assert retried.json()["payment"]["out_trade_no"].endswith("P02")
        await reconcile_payments(runtime=api.runtime)
        statuses = [p["status"] for p in await shop.payments(order["id"])]
        assert statuses == ["closed", "started"]


async def test_a_missed_callback_is_recovered_by_reconciliation(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        wx_order = await shop.order()
        ali_order = await shop.order()
        wx = (await shop.pay(wx_order["id"], "wechatpay.native")).json()["payment"]
        ali = (await shop.pay(ali_order["id"], "alipay.qr")).json()["payment"]
        wechat_fake.pay(wx["out_trade_no"])  # the callbacks never arrive
        alipay_fake.pay(ali["out_trade_no"])
        done = await reconcile_payments(runtime=api.runtime)
        assert done["trade_paid"] == 2
        for placed_order in (wx_order, ali_order):
            assert (await shop.get_order(placed_order["id"]))["status"] == "paid"
        assert (await reconcile_payments(runtime=api.runtime))["trade_paid"] == 0
        # The callback, late, changes nothing more.
        headers, body = wechat_fake.callback(
            "TRANSACTION.SUCCESS",
            "transaction",
            wechat_fake._transaction(wechat_fake.trades[wx["out_trade_no"]]),
        )
        assert (await api.post(WECHAT_CALLBACK, content=body, headers=headers)).status_code == 204
        assert len(await shop.history(wx_order["id"])) == 2


async def test_an_order_whose_trade_was_paid_in_time_is_settled_not_expired(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        paid_late = await shop.order()
        unpaid = await shop.order()
        wx = (await shop.pay(paid_late["id"], "wechatpay.native")).json()["payment"]
        await shop.pay(unpaid["id"], "wechatpay.native")
        wechat_fake.pay(wx["out_trade_no"])
        async with api.runtime.db.transaction() as uow:
            await uow.session.execute(
                update(OrderDO)
                .where(OrderDO.id.in_([paid_late["id"], unpaid["id"]]))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        assert await expire_unpaid_orders(runtime=api.runtime) == 1
        assert (await shop.get_order(paid_late["id"]))["status"] == "paid"
        assert (await shop.get_order(unpaid["id"]))["status"] == "cancelled"
        # order.cancelled closes the unpaid order's trade at the provider.
        await drain(api)
        [closed] = await shop.payments(unpaid["id"])
        assert closed["status"] == "closed"
        assert wechat_fake.trades[closed["out_trade_no"]].state == "CLOSED"


async def test_expiry_waits_for_a_provider_it_cannot_ask_then_cancels(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        await shop.pay(order["id"], "wechatpay.native")
        async with api.runtime.db.transaction() as uow:
            await uow.session.execute(
                update(OrderDO)
                .where(OrderDO.id == order["id"])
                .values(expires_at=utcnow() - timedelta(minutes=5))
            )
        wechat_fake.down = True
        # Within `expiry_provider_patience_seconds` (an hour): the order waits.
        assert await expire_unpaid_orders(runtime=api.runtime) == 0
        assert (await shop.get_order(order["id"]))["status"] == "pending_payment"
        api.settings.order.payments.expiry_provider_patience_seconds = 60
        assert await expire_unpaid_orders(runtime=api.runtime) == 1
        assert (await shop.get_order(order["id"]))["status"] == "cancelled"


async def test_a_payment_after_cancel_is_refunded_and_stock_is_not_sold_twice(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api, stock=3)
        order = await shop.order(quantity=2)
        assert await shop.stock() == 1
        ali = (await shop.pay(order["id"], "alipay.qr")).json()["payment"]
        notification = alipay_fake.pay(ali["out_trade_no"])  # paid; the notification lags
        cancelled = await api.post(
            f"/api/v1/orders/{order['id']}/cancel", json={}, headers=shop.customer.headers
        )
        assert cancelled.status_code == 200
        assert await shop.stock() == 3
        # order.cancelled: closing the trade finds it paid; the payment is refunded.
        await drain(api)
        await drain(api)
        [refund] = await shop.refunds(order["id"])
        assert (refund["status"], refund["automatic"]) == ("succeeded", True)
        assert refund["amount"] == "39.80"
        assert alipay_fake.trades[ali["out_trade_no"]].refunds == {refund["out_refund_no"]: "39.80"}
        late = await api.post(ALIPAY_CALLBACK, content=notification, headers=FORM)
        assert (late.status_code, late.text) == (200, "success")
        current = await shop.get_order(order["id"])
        assert current["status"] == "cancelled"
        assert await shop.stock() == 3
        assert len(await shop.refunds(order["id"])) == 1


async def test_a_late_wechat_callback_after_cancel_is_refunded_through_the_outbox(
    api_with, alipay_fake, wechat_fake
):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        shop = await make_shop(api)
        order = await shop.order()
        wx = (await shop.pay(order["id"], "wechatpay.native")).json()["payment"]
        headers, body = wechat_fake.pay(wx["out_trade_no"])
        await api.post(
            f"/api/v1/orders/{order['id']}/cancel", json={}, headers=shop.customer.headers
        )
        answer = await api.post(WECHAT_CALLBACK, content=body, headers=headers)
        assert answer.status_code == 204  # accepted at once: the refund goes to the outbox
        [refund] = await shop.refunds(order["id"])
        assert (refund["status"], refund["automatic"]) == ("requested", True)
        await drain(api)
        [refund] = await shop.refunds(order["id"])
        assert refund["status"] == "pending"  # WeChat Pay is processing it
        headers, body = wechat_fake.settle_refund(refund["out_refund_no"])
        assert (await api.post(WECHAT_CALLBACK, content=body, headers=headers)).status_code == 204
        [refund] = await shop.refunds(order["id"])
        assert refund["status"] == "succeeded"
        assert (await shop.get_order(order["id"]))["status"] == "cancelled"


async def test_openapi_shows_the_methods_and_what_each_returns(api_with, alipay_fake, wechat_fake):
    async with open_shop(api_with, alipay_fake, wechat_fake) as api:
        spec = (await api.get("/openapi.json")).json()
        schemas = spec["components"]["schemas"]
        assert "alipay.qr" in schemas["PayIn"]["properties"]["method"]["description"]
        checkout = schemas["CheckoutOut"]["properties"]
        assert {"qr_code_url", "redirect_url", "form", "jsapi"} <= set(checkout)
        pay = spec["paths"]["/api/v1/orders/{order_id}/pay"]["post"]
        assert "503" in pay["responses"]
        assert json.dumps(pay["responses"]["200"]).count("PayOut") >= 1
