"""Which locale a message is written in: the user's, else `notify.default_locale`."""

from __future__ import annotations

import pytest

from tests.helpers import signed_in
from tests.messages import deliver, notifications, sms_sent, unique_phone
from tests.notify.test_order_notifications import order_payload, publish_order_event


async def test_default_locale_applies_to_users_and_numbers_without_templates(notify_api, smtp_sink):
    async with notify_api(notify={"default_locale": "zh-CN"}) as api:
        user = await signed_in(api)
        await api.patch("/api/v1/users/me", json={"locale": "fr-FR"}, headers=user.headers)
        payload = order_payload(user.id)
        await publish_order_event(api, "order.paid", payload)
        phone = unique_phone()  # nobody's number: no user locale to follow
        await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "register"})
        await deliver(api)
        [mail] = [m for m in smtp_sink.to(user.email) if payload["order_no"] in m["Subject"]]
        assert mail["Subject"] == f"订单 {payload['order_no']} 支付成功"
        [sms] = sms_sent(api, phone)
        assert "您的验证码" in sms["text"]
        [row] = await notifications(api, recipient=phone)
        assert row.locale == "zh-CN"


async def test_a_language_picks_its_shipped_locale(notify_api, smtp_sink):
    async with notify_api(notify={"default_locale": "zh"}) as api:
        phone = unique_phone()
        await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "register"})
        await deliver(api)
        [row] = await notifications(api, recipient=phone)
        assert row.locale == "zh-CN"


async def test_a_default_locale_without_templates_stops_start_up(notify_api):
    with pytest.raises(ValueError, match=r"notify.default_locale 'fr' has no templates"):
        async with notify_api(notify={"default_locale": "fr"}):
            pass
