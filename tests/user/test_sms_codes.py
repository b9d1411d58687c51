"""SMS codes: sending limits, no enumeration, sign-in with a code, binding a phone."""

from __future__ import annotations

import asyncio

from tests.helpers import signed_in
from tests.messages import bind_phone as bind
from tests.messages import deliver, last_code, sms_sent, unique_phone

SEND = "/api/v1/auth/sms-code"
LOGIN_SMS = "/api/v1/auth/login/sms"
BIND = "/api/v1/users/me/phone"


async def test_bind_phone_with_a_code_stores_e164_and_marks_it_verified(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        phone = unique_phone()
        national = phone.removeprefix("+86")
        spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
        response = await api.post(SEND, json={"phone": spaced, "purpose": "bind_phone"})
        assert response.status_code == 202
        await deliver(api)
        [sms] = sms_sent(api, phone)
        assert sms["type"] == "verification_code"
        assert sms["params"]["code"] in sms["text"]
        assert "5 minutes" in sms["text"]
        bound = await api.post(
            BIND, json={"phone": spaced, "code": sms["params"]["code"]}, headers=user.headers
        )
        assert bound.status_code == 200
        assert (bound.json()["phone"], bound.json()["phone_verified"]) == (phone, True)
        # Single use.
        again = await api.post(
            BIND, json={"phone": phone, "code": sms["params"]["code"]}, headers=user.headers
        )
        assert (again.status_code, again.json()["code"]) == (401, "auth.invalid_code")


async def test_a_phone_verified_by_someone_else_cannot_be_bound(notify_api):
    async with notify_api(user={"sms_per_phone_interval_seconds": 1}) as api:
        first, second = await signed_in(api), await signed_in(api)
        phone = unique_phone()
        await bind(api, first, phone)
        await asyncio.sleep(1.1)
        await api.post(SEND, json={"phone": phone, "purpose": "bind_phone"})
        await deliver(api)
        response = await api.post(
            BIND, json={"phone": phone, "code": last_code(api, phone)}, headers=second.headers
        )
        assert (response.status_code, response.json()["code"]) == (409, "user.phone_taken")


async def test_sms_login_for_verified_phone_and_nothing_sent_for_unknown(notify_api):
    async with notify_api(user={"sms_per_phone_interval_seconds": 1}) as api:
        user = await signed_in(api)
        phone = unique_phone()
        await bind(api, user, phone)
        await asyncio.sleep(1.1)
        stranger = unique_phone()
        known = await api.post(SEND, json={"phone": phone, "purpose": "login"})
        unknown = await api.post(SEND, json={"phone": stranger, "purpose": "login"})
        assert known.status_code == unknown.status_code == 202
        assert known.text == unknown.text == ""
        await deliver(api)
        assert sms_sent(api, stranger) == []
        response = await api.post(LOGIN_SMS, json={"phone": phone, "code": last_code(api, phone)})
        assert response.status_code == 200
        me = await api.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert me.json()["id"] == user.id
        nobody = await api.post(LOGIN_SMS, json={"phone": stranger, "code": "123456"})
        assert (nobody.status_code, nobody.json()["code"]) == (401, "auth.invalid_code")


async def test_five_wrong_codes_burn_the_code(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        phone = unique_phone()
        await api.post(SEND, json={"phone": phone, "purpose": "bind_phone"})
        await deliver(api)
        code = last_code(api, phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            response = await api.post(
                BIND, json={"phone": phone, "code": wrong}, headers=user.headers
            )
            assert response.status_code == 401
        late = await api.post(BIND, json={"phone": phone, "code": code}, headers=user.headers)
        assert (late.status_code, late.json()["code"]) == (401, "auth.invalid_code")


async def test_code_expires(notify_api):
    async with notify_api(user={"code_ttl_seconds": 1}) as api:
        user = await signed_in(api)
        phone = unique_phone()
        await api.post(SEND, json={"phone": phone, "purpose": "bind_phone"})
        await deliver(api)
        code = last_code(api, phone)
        await asyncio.sleep(1.3)
        response = await api.post(BIND, json={"phone": phone, "code": code}, headers=user.headers)
        assert response.status_code == 401


async def test_one_send_per_interval_and_a_daily_cap_per_phone(notify_api):
    async with notify_api(
        user={"sms_per_phone_interval_seconds": 1, "sms_per_phone_per_day": 2}
    ) as api:
        phone = unique_phone()
        assert (
            await api.post(SEND, json={"phone": phone, "purpose": "register"})
        ).status_code == 202
        soon = await api.post(SEND, json={"phone": phone, "purpose": "register"})
        assert (soon.status_code, soon.json()["code"]) == (429, "notify.sms_rate_limited")
        assert soon.headers["retry-after"] == "1"
        await asyncio.sleep(1.1)
        assert (
            await api.post(SEND, json={"phone": phone, "purpose": "register"})
        ).status_code == 202
        await asyncio.sleep(1.1)
        capped = await api.post(SEND, json={"phone": phone, "purpose": "register"})
        assert capped.status_code == 429
        assert int(capped.headers["retry-after"]) > 80_000  # until the day window ends
        await deliver(api)
        assert len(sms_sent(api, phone)) == 2


async def test_default_limits_are_one_a_minute_and_per_ip(notify_api):
    async with notify_api(user={"sms_per_ip_per_hour": 3}) as api:
        phone = unique_phone()
        await api.post(SEND, json={"phone": phone, "purpose": "register"})
        minute = await api.post(SEND, json={"phone": phone, "purpose": "register"})
        assert minute.status_code == 429
        assert 50 <= int(minute.headers["retry-after"]) <= 60
        await api.post(SEND, json={"phone": unique_phone(), "purpose": "register"})
        per_ip = await api.post(SEND, json={"phone": unique_phone(), "purpose": "register"})
        assert per_ip.status_code == 429
        assert int(per_ip.headers["retry-after"]) > 3000


async def test_invalid_numbers_and_purposes_are_422(notify_api):
    async with notify_api() as api:
        bad = await api.post(SEND, json={"phone": "+86 123", "purpose": "login"})
        assert (bad.status_code, bad.json()["code"]) == (422, "notify.invalid_phone")
        purpose = await api.post(SEND, json={"phone": unique_phone(), "purpose": "spam"})
        assert purpose.status_code == 422


async def test_password_reset_with_an_sms_code(notify_api):
    async with notify_api(user={"sms_per_phone_interval_seconds": 1}) as api:
        user = await signed_in(api)
        phone = unique_phone()
        await bind(api, user, phone)
        await asyncio.sleep(1.05)
        await api.post(SEND, json={"phone": phone, "purpose": "reset_password"})
        await deliver(api)
        code = last_code(api, phone)
        reset = "/api/v1/auth/password/reset"
        weak = await api.post(
            reset, json={"phone": phone, "code": code, "new_password": "password"}
        )
        assert weak.status_code == 422
        ok = await api.post(
            reset, json={"phone": phone, "code": code, "new_password": "Fresh-Passw0rd-Here"}
        )
        assert ok.status_code == 204
        assert (await api.get("/api/v1/users/me", headers=user.headers)).status_code == 401
        login = await api.post(
            "/api/v1/auth/login",
            json={"username": user.username, "password": "Fresh-Passw0rd-Here"},
        )
        assert login.status_code == 200
        both = await api.post(
            reset, json={"token": "x" * 20, "phone": phone, "code": code, "new_password": "x"}
        )
        assert both.status_code == 422
