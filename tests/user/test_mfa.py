"""Two-factor sign-in: TOTP enrolment, login/mfa, replay, recovery codes, SMS, turning it off."""

from __future__ import annotations

import asyncio
import base64
import time

import pyotp

from tests.helpers import PASSWORD, bearer, signed_in
from tests.messages import bind_phone as bind
from tests.messages import deliver, last_code, unique_phone

LOGIN = "/api/v1/auth/login"
LOGIN_MFA = "/api/v1/auth/login/mfa"


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


async def enable_totp(api, user) -> tuple[str, list[str]]:
    setup = await api.post("/api/v1/users/me/mfa/totp", headers=user.headers)
    assert setup.status_code == 200
    body = setup.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Tessera:")
    assert base64.b64decode(body["qr_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    # Confirm with the previous step's code so the current one stays fresh for the test.
    confirm = await api.post(
        "/api/v1/users/me/mfa/totp/confirm",
        json={"code": code_at(body["secret"], -1)},
        headers=user.headers,
    )
    assert confirm.status_code == 200, confirm.text
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    return body["secret"], codes


async def password_step(api, user) -> dict:
    response = await api.post(LOGIN, json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["mfa_required"] is True
    assert "access_token" not in body
    return body


async def test_totp_login_and_no_replay_of_the_same_code(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        secret, _ = await enable_totp(api, user)
        me = await api.get("/api/v1/users/me", headers=user.headers)
        assert me.json()["mfa_enabled"] is True
        challenge = await password_step(api, user)
        assert challenge["methods"] == ["totp", "recovery_code"]
        code = code_at(secret)
        done = await api.post(LOGIN_MFA, json={"mfa_token": challenge["mfa_token"], "code": code})
        assert done.status_code == 200
        assert (
            await api.get("/api/v1/users/me", headers=bearer(done.json()["access_token"]))
        ).status_code == 200
        # The mfa_token is spent, and the same TOTP code is refused within its window.
        spent = await api.post(LOGIN_MFA, json={"mfa_token": challenge["mfa_token"], "code": code})
        assert spent.json()["code"] == "auth.mfa_token_invalid"
        replay = await password_step(api, user)
        again = await api.post(LOGIN_MFA, json={"mfa_token": replay["mfa_token"], "code": code})
        assert (again.status_code, again.json()["code"]) == (401, "auth.invalid_mfa_code")
        form = await api.post(
            "/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}
        )
        assert form.json()["code"] == "auth.mfa_required"


async def test_wrong_codes_are_rate_limited(notify_api):
    async with notify_api(user={"mfa_max_attempts": 3}) as api:
        user = await signed_in(api)
        secret, _ = await enable_totp(api, user)
        challenge = await password_step(api, user)
        wrong = f"{(int(code_at(secret)) + 1) % 1_000_000:06d}"
        for _ in range(3):
            response = await api.post(
                LOGIN_MFA, json={"mfa_token": challenge["mfa_token"], "code": wrong}
            )
            assert response.status_code == 401
        limited = await api.post(
            LOGIN_MFA, json={"mfa_token": challenge["mfa_token"], "code": code_at(secret)}
        )
        assert (limited.status_code, limited.json()["code"]) == (429, "auth.mfa_rate_limited")
        assert int(limited.headers["retry-after"]) > 0


async def test_recovery_codes_work_once(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        _, codes = await enable_totp(api, user)
        body = {"code": codes[0].upper(), "method": "recovery_code"}
        first = await password_step(api, user)
        ok = await api.post(LOGIN_MFA, json={"mfa_token": first["mfa_token"], **body})
        assert ok.status_code == 200
        second = await password_step(api, user)
        reused = await api.post(LOGIN_MFA, json={"mfa_token": second["mfa_token"], **body})
        assert reused.json()["code"] == "auth.invalid_mfa_code"


async def test_sms_as_second_factor(notify_api):
    async with notify_api(user={"sms_per_phone_interval_seconds": 1}) as api:
        user = await signed_in(api)
        phone = unique_phone()
        await bind(api, user, phone)
        await enable_totp(api, user)
        challenge = await password_step(api, user)
        assert challenge["methods"] == ["totp", "sms", "recovery_code"]
        await asyncio.sleep(1.05)
        sent = await api.post(
            "/api/v1/auth/login/mfa/sms", json={"mfa_token": challenge["mfa_token"]}
        )
        assert sent.status_code == 202
        await deliver(api)
        done = await api.post(
            LOGIN_MFA,
            json={
                "mfa_token": challenge["mfa_token"],
                "code": last_code(api, phone),
                "method": "sms",
            },
        )
        assert done.status_code == 200
        # Signing in by SMS code leaves TOTP or a recovery code as the second factor.
        await asyncio.sleep(1.05)
        await api.post("/api/v1/auth/sms-code", json={"phone": phone, "purpose": "login"})
        await deliver(api)
        by_sms = await api.post(
            "/api/v1/auth/login/sms", json={"phone": phone, "code": last_code(api, phone)}
        )
        assert by_sms.json()["mfa_required"] is True
        assert by_sms.json()["methods"] == ["totp", "recovery_code"]


async def test_disable_needs_password_and_a_current_code(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        secret, _ = await enable_totp(api, user)
        url = "/api/v1/users/me/mfa"
        wrong_password = await api.request(
            "DELETE",
            url,
            json={"password": "not-it-at-all", "code": code_at(secret)},
            headers=user.headers,
        )
        assert wrong_password.json()["code"] == "user.wrong_password"
        wrong_code = await api.request(
            "DELETE", url, json={"password": PASSWORD, "code": "000000"}, headers=user.headers
        )
        assert wrong_code.json()["code"] == "auth.invalid_mfa_code"
        ok = await api.request(
            "DELETE",
            url,
            json={"password": PASSWORD, "code": code_at(secret)},
            headers=user.headers,
        )
        assert ok.status_code == 204
        response = await api.post(LOGIN, json={"username": user.username, "password": PASSWORD})
        assert "access_token" in response.json()


async def test_enrolment_needs_a_right_code(notify_api):
    async with notify_api() as api:
        user = await signed_in(api)
        setup = (await api.post("/api/v1/users/me/mfa/totp", headers=user.headers)).json()
        wrong = f"{(int(code_at(setup['secret'])) + 1) % 1_000_000:06d}"
        response = await api.post(
            "/api/v1/users/me/mfa/totp/confirm", json={"code": wrong}, headers=user.headers
        )
        assert response.json()["code"] == "auth.invalid_mfa_code"
        me = await api.get("/api/v1/users/me", headers=user.headers)
        assert me.json()["mfa_enabled"] is False


async def test_totp_secret_is_not_stored_in_plain_text(notify_api):
    from sqlalchemy import text

    async with notify_api() as api:
        user = await signed_in(api)
        secret, _ = await enable_totp(api, user)
        async with api.runtime.db.read() as session:
            stored = await session.scalar(
                text("SELECT mfa_totp_secret FROM user_account WHERE id = :id"), {"id": user.id}
            )
    assert stored
    assert secret not in stored
