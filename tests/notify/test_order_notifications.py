"""Order events become mail (and SMS) from the outbox worker, once per event, as the user chose."""

from __future__ import annotations

import asyncio
from typing import Any

from tessera.blocks.order import events as order_events
from tessera.lib.tasks import Topic, publish
from tests.helpers import drain, signed_in, unique
from tests.messages import (
    deliver,
    html_of,
    notifications,
    sms_sent,
    text_of,
    unique_phone,
)

SETTINGS = "/api/v1/users/me/notification-settings"


def order_payload(user_id: int, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "order_id": 1,
        "order_no": unique("T"),
        "user_id": user_id,
        "status": "paid",
        "total": "12.50",
        "currency": "CNY",
        "items": [
            {
                "product_id": 3,
                "sku": "TEA-001",
                "name": "Green tea",
                "unit_price": "6.25",
                "quantity": 2,
                "line_total": "12.50",
            }
        ],
        "reason": None,
        "carrier": None,
        "tracking_no": None,
        "occurred_at": "2026-11-26T08:00:00Z",
    }
    payload.update(changes)
    return payload


TOPICS: dict[str, Topic[order_events.OrderEvent]] = {
    topic.name: topic for topic in order_events.ORDER_TOPICS
}


async def publish_order_event(api: Any, topic: str, payload: dict[str, Any]) -> str:
    async with api.runtime.db.transaction() as uow:
        return await publish(
            uow,
            api.runtime.events,
            TOPICS[topic],
            order_events.OrderEvent.model_validate(payload),
            aggregate_id=payload["order_id"],
        )


async def test_paid_order_mail_lists_items_and_total(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        payload = order_payload(user.id)
        await publish_order_event(api, "order.paid", payload)
        await deliver(api)
        mails = [m for m in smtp_sink.to(user.email) if payload["order_no"] in m["Subject"]]
        assert len(mails) == 1
        text = text_of(mails[0])
        assert "2 x Green tea (TEA-001) @ 6.25 = 12.50" in text
        assert "Total: 12.50 CNY" in text
        assert "<td>Green tea <small>(TEA-001)</small></td>" in html_of(mails[0])
        [row] = await notifications(api, user_id=user.id, template="order_paid")
        assert (row.status, row.attempts, row.channel) == ("sent", 1, "mail")
        assert row.provider_id == mails[0]["Message-ID"]


async def test_mail_is_in_the_users_locale(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        await api.patch("/api/v1/users/me", json={"locale": "zh-CN"}, headers=user.headers)
        payload = order_payload(user.id, status="shipped", carrier="SF", tracking_no="SF123")
        await publish_order_event(api, "order.shipped", payload)
        await deliver(api)
        [mail] = [m for m in smtp_sink.to(user.email) if payload["order_no"] in m["Subject"]]
        assert mail["Subject"] == f"订单 {payload['order_no']} 已发货"
        assert "运单号 SF123" in text_of(mail)


async def test_mails_queue_while_smtp_is_down_and_arrive_exactly_once(notify_api, smtp_sink):
    # Backoff long enough that one drain does not burn every attempt while the sink is down.
    async with notify_api(tasks={"backoff_base_seconds": 0.5, "backoff_max_seconds": 0.5}) as api:
        user = await signed_in(api)
        smtp_sink.stop()
        order_numbers = []
        for index in range(20):
            payload = order_payload(user.id, order_id=index + 1)
            order_numbers.append(payload["order_no"])
            await publish_order_event(api, "order.paid", payload)
        await deliver(api)
        rows = await notifications(api, user_id=user.id, template="order_paid")
        assert len(rows) == 20
        assert {row.status for row in rows} == {"failed"}
        assert all(row.attempts >= 1 and "SMTP" in (row.last_error or "") for row in rows)
        smtp_sink.start()
        for _ in range(40):
            await asyncio.sleep(0.1)
            await drain(api)
            rows = await notifications(api, user_id=user.id, template="order_paid")
            if all(row.status == "sent" for row in rows):
                break
        await drain(api)  # nothing left: no second copy of anything
        subjects = [m["Subject"] for m in smtp_sink.to(user.email) if "Order" in m["Subject"]]
        assert sorted(subjects) == sorted(
            f"Order {no} confirmed: payment received" for no in order_numbers
        )
        rows = await notifications(api, user_id=user.id, template="order_paid")
        assert {row.status for row in rows} == {"sent"}


async def test_message_goes_dead_after_max_attempts(notify_api, smtp_sink):
    async with notify_api(tasks={"max_attempts": 2, "backoff_base_seconds": 0.001}) as api:
        user = await signed_in(api)
        smtp_sink.stop()
        await publish_order_event(api, "order.cancelled", order_payload(user.id, reason="late"))
        for _ in range(20):
            await drain(api)
            [row] = await notifications(api, user_id=user.id, template="order_cancelled")
            if row.status == "dead":
                break
            await asyncio.sleep(0.01)
        assert (row.status, row.attempts) == ("dead", 2)


async def test_redelivered_event_does_not_queue_a_second_message(notify_api, smtp_sink):
    async with notify_api() as api:
        from tessera.blocks.notify import service
        from tessera.lib.db import utcnow
        from tessera.lib.tasks import Event

        user = await signed_in(api)
        payload = order_payload(user.id)
        data = order_events.OrderEvent.model_validate(payload)
        event = Event("e" * 32, "order.paid", "1", data, utcnow(), 1)
        await service.on_order_event(api.runtime, event)
        await service.on_order_event(api.runtime, event)  # at-least-once: it happens
        await deliver(api)
        assert len(await notifications(api, user_id=user.id, template="order_paid")) == 1
        assert len([m for m in smtp_sink.to(user.email) if "Order" in m["Subject"]]) == 1


async def test_settings_choose_channels_and_sms_needs_verified_phone(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        assert (await api.get(SETTINGS, headers=user.headers)).json() == {
            "mail": ["order.paid", "order.shipped", "order.cancelled", "order.refunded"],
            "sms": ["order.shipped"],
        }
        response = await api.put(
            SETTINGS, json={"mail": [], "sms": ["order.paid", "order.paid"]}, headers=user.headers
        )
        assert response.status_code == 200
        assert response.json() == {"mail": [], "sms": ["order.paid"]}
        bad = await api.put(
            SETTINGS, json={"mail": ["order.lost"], "sms": []}, headers=user.headers
        )
        assert bad.status_code == 422

        await publish_order_event(api, "order.paid", order_payload(user.id))
        await deliver(api)
        assert [m for m in smtp_sink.to(user.email) if "Order" in m["Subject"]] == []
        assert sms_sent(api) == []  # no verified phone: nothing

        phone = unique_phone()
        # Bound with a code issued directly, so the only SMS to the phone is the order's.
        from tessera.blocks.user import service as user_service

        issued = await user_service.issue_sms_code(
            runtime=api.runtime, phone=phone, purpose="bind_phone"
        )
        assert issued is not None
        bound = await api.post(
            "/api/v1/users/me/phone",
            json={"phone": phone, "code": issued.code.get_secret_value()},
            headers=user.headers,
        )
        assert bound.status_code == 200
        payload = order_payload(user.id)
        await publish_order_event(api, "order.paid", payload)
        await deliver(api)
        [sms] = sms_sent(api, phone)
        assert payload["order_no"] in sms["text"]
        assert sms["type"] == "order_paid"


async def test_operators_see_masked_log_and_customers_do_not(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        staff = await signed_in(api, role="staff")
        await publish_order_event(api, "order.refunded", order_payload(user.id, reason="x"))
        await deliver(api)
        denied = await api.get("/api/v1/notifications", headers=user.headers)
        assert denied.status_code == 403
        response = await api.get(
            "/api/v1/notifications",
            params={"user_id": user.id, "template": "order_refunded"},
            headers=staff.headers,
        )
        assert response.status_code == 200
        [item] = response.json()["items"]
        local = user.email.split("@")[0]
        assert item["recipient"] == f"{local[0]}***{local[-1]}@example.com"
        assert (item["channel"], item["template"], item["status"]) == (
            "mail",
            "order_refunded",
            "sent",
        )
        assert item["attempts"] == 1
        assert item["provider_id"].startswith("<notification-")
        filtered = await api.get(
            "/api/v1/notifications",
            params={"status": "dead", "user_id": user.id},
            headers=staff.headers,
        )
        assert filtered.json()["total"] == 0
