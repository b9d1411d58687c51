"""Codes and link tokens never reach logs or the database in clear; flows work end to end
through a signed provider API (the Aliyun and Tencent fakes)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from tessera.lib.tasks.outbox import OutboxEventDO
from tests.fakes.sms_providers import FakeSmsProvider
from tests.helpers import signed_in
from tests.messages import deliver, notifications, token_in_last_mail, unique_phone


async def outbox_payloads(api) -> str:
    async with api.runtime.db.read() as session:
        rows = await session.execute(select(OutboxEventDO.payload, OutboxEventDO.last_error))
        return "\n".join(f"{payload} {error}" for payload, error in rows.all())


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}")


async def test_link_tokens_and_codes_stay_out_of_logs_and_tables(notify_api, smtp_sink, capfd):
    collected = _Collect()
    logging.getLogger().addHandler(collected)
    async with notify_api(tasks={"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.05}) as api:
        smtp_sink.stop()
        user = await signed_in(api)
        await deliver(api)  # fails and logs: the message must not be in the log
        smtp_sink.start()
        await asyncio.sleep(0.1)
        await deliver(api)
        token = token_in_last_mail(smtp_sink, user.email)

        phone = unique_phone()
        await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "bind_phone"})
        await deliver(api)
        from tests.messages import last_code

        code = last_code(api, phone)
        stored = "\n".join(row.params for row in await notifications(api, user_id=user.id))
        stored += "\n".join(row.params for row in await notifications(api, recipient=phone))
        everything = stored + await outbox_payloads(api)
        logging.getLogger().removeHandler(collected)
        logged = "\n".join(collected.lines) + "".join(capfd.readouterr())
        assert "event_handler_failed" in logged  # the outage was logged...
        for secret in (token, code):
            assert secret not in logged  # ...without the secret
            assert secret not in everything
        assert "__wiped__" in stored


@pytest.mark.parametrize("kind", ["aliyun", "tencent"])
async def test_sms_login_through_a_signed_provider(notify_api, kind):
    fake = FakeSmsProvider(kind=kind).start()
    if kind == "aliyun":
        sms = {
            "backend": "aliyun",
            "aliyun_access_key_id": fake.key_id,
            "aliyun_access_key_secret": fake.secret,
            "aliyun_endpoint": fake.url,
        }
    else:
        sms = {
            "backend": "tencent",
            "tencent_secret_id": fake.key_id,
            "tencent_secret_key": fake.secret,
            "tencent_sdk_app_id": fake.app_id,
            "tencent_endpoint": fake.url,
        }
    sms["templates"] = {"verification_code": "SMS_100"}
    try:
        async with notify_api(sms=sms, user={"sms_per_phone_interval_seconds": 1}) as api:
            user = await signed_in(api)
            phone = unique_phone()
            await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "bind_phone"})
            await deliver(api)
            [code] = fake.codes_to(phone.removeprefix("+86"))
            bound = await api.post(
                "/api/v1/users/me/phone", json={"phone": phone, "code": code}, headers=user.headers
            )
            assert bound.status_code == 200
            await asyncio.sleep(1.05)
            await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "login"})
            await deliver(api)
            code = fake.codes_to(phone.removeprefix("+86"))[-1]
            response = await api.post("/api/v1/auth/login/sms", json={"phone": phone, "code": code})
            assert response.status_code == 200
            assert "access_token" in response.json()
            rows = await notifications(api, recipient=phone)
            assert [row.status for row in rows] == ["sent", "sent"]
            assert {row.provider_id for row in rows} == {item["id"] for item in fake.received}
            assert fake.rejected_signatures == 0
    finally:
        fake.stop()


async def test_rejected_template_parks_the_message_dead_without_retry(notify_api):
    fake = FakeSmsProvider(kind="aliyun").start()
    sms = {
        "backend": "aliyun",
        "aliyun_access_key_id": fake.key_id,
        "aliyun_access_key_secret": fake.secret,
        "aliyun_endpoint": fake.url,
        "templates": {"verification_code": "TPL_REJECTED"},
    }
    try:
        async with notify_api(sms=sms) as api:
            phone = unique_phone()
            await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "register"})
            await deliver(api)
            [row] = await notifications(api, recipient=phone)
            assert (row.status, row.attempts) == ("dead", 1)
            assert "isv.SMS_TEMPLATE_ILLEGAL" in (row.last_error or "")
    finally:
        fake.stop()
