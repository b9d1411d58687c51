"""Email verification links and password reset, end to end through the SMTP sink."""

from __future__ import annotations

import asyncio
import time

from tests.helpers import PASSWORD, bearer, signed_in, unique
from tests.messages import deliver, html_of, last_mail, text_of, token_in_last_mail

VERIFY = "/api/v1/auth/email/verify"
RESEND = "/api/v1/auth/email/resend"
FORGOT = "/api/v1/auth/password/forgot"
RESET = "/api/v1/auth/password/reset"
NEW_PASSWORD = "An0ther-Long-Secret!"


async def test_registration_mails_a_link_that_verifies_the_address_once(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        me = await api.get("/api/v1/users/me", headers=user.headers)
        assert me.json()["email_verified"] is False
        await deliver(api)
        [mail] = smtp_sink.to(user.email)
        assert mail["Subject"] == "Confirm your email address"
        token = token_in_last_mail(smtp_sink, user.email)
        assert f"verify-email?token={token}" in html_of(mail)

        assert (await api.post(VERIFY, json={"token": token})).status_code == 204
        me = await api.get("/api/v1/users/me", headers=user.headers)
        assert me.json()["email_verified"] is True
        again = await api.post(VERIFY, json={"token": token})
        assert (again.status_code, again.json()["code"]) == (422, "notify.invalid_token")
        wrong = await api.post(VERIFY, json={"token": "x" * 43})
        assert wrong.json()["code"] == "notify.invalid_token"


async def test_verification_mail_in_chinese_for_zh_cn_users(notify_api, smtp_sink):
    async with notify_api() as api:
        created = await signed_in(api)
        await api.patch("/api/v1/users/me", json={"locale": "zh-CN"}, headers=created.headers)
        await api.post(RESEND, headers=created.headers)
        await deliver(api)
        subjects = [mail["Subject"] for mail in smtp_sink.to(created.email)]
        assert "请验证您的邮箱地址" in subjects


async def test_resend_is_rate_limited_and_refused_once_verified(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        assert (await api.post(RESEND, headers=user.headers)).status_code == 202
        limited = await api.post(RESEND, headers=user.headers)
        assert limited.status_code == 429
        assert limited.json()["code"] == "notify.resend_rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        await deliver(api)
        assert len(smtp_sink.to(user.email)) == 2  # registration + one resend
        token = token_in_last_mail(smtp_sink, user.email)
        assert (await api.post(VERIFY, json={"token": token})).status_code == 204
        done = await api.post(RESEND, headers=user.headers)
        assert (done.status_code, done.json()["code"]) == (409, "notify.already_verified")


async def test_verification_link_expires(notify_api, smtp_sink):
    async with notify_api(user={"email_verify_ttl_seconds": 1}) as api:
        user = await signed_in(api)
        await deliver(api)
        token = token_in_last_mail(smtp_sink, user.email)
        await asyncio.sleep(1.3)
        response = await api.post(VERIFY, json={"token": token})
        assert response.json()["code"] == "notify.invalid_token"


async def test_forgot_password_answers_the_same_for_unknown_addresses(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        await deliver(api)
        stranger = f"{unique()}@example.com"

        async def timed(email: str) -> tuple[int, str, float]:
            started = time.perf_counter()
            response = await api.post(FORGOT, json={"email": email})
            return response.status_code, response.text, time.perf_counter() - started

        known = [await timed(user.email) for _ in range(3)]
        unknown = [await timed(stranger) for _ in range(3)]
        assert {status for status, _, _ in known + unknown} == {202}
        assert {body for _, body, _ in known + unknown} == {""}
        # The request does the same work either way (the lookup happens in the worker).
        assert min(t for *_, t in unknown) > min(t for *_, t in known) * 0.3
        await deliver(api)
        assert len([m for m in smtp_sink.to(user.email) if "password" in m["Subject"]]) == 3
        assert smtp_sink.to(stranger) == []


async def test_reset_sets_password_revokes_sessions_and_works_once(notify_api, smtp_sink):
    async with notify_api() as api:
        user = await signed_in(api)
        await api.post(FORGOT, json={"email": user.email.upper()})
        await deliver(api)
        token = token_in_last_mail(smtp_sink, user.email, link="reset-password")
        assert "30 minutes" in text_of(last_mail(smtp_sink, user.email, link="reset-password"))

        weak = await api.post(RESET, json={"token": token, "new_password": "password"})
        assert (weak.status_code, weak.json()["code"]) == (422, "user.weak_password")
        ok = await api.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
        assert ok.status_code == 204
        # Every refresh token (and the access tokens of those sessions) stops working.
        refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
        assert refresh.status_code == 401
        me = await api.get("/api/v1/users/me", headers=bearer(user.access))
        assert me.status_code == 401
        old = await api.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )
        assert old.status_code == 401
        new = await api.post(
            "/api/v1/auth/login", json={"username": user.username, "password": NEW_PASSWORD}
        )
        assert new.status_code == 200
        reused = await api.post(RESET, json={"token": token, "new_password": "Yet-An0ther-One!"})
        assert (reused.status_code, reused.json()["code"]) == (422, "notify.invalid_token")


async def test_reset_link_expires(notify_api, smtp_sink):
    async with notify_api(user={"password_reset_ttl_seconds": 1}) as api:
        user = await signed_in(api)
        await api.post(FORGOT, json={"email": user.email})
        await deliver(api)
        token = token_in_last_mail(smtp_sink, user.email, link="reset-password")
        await asyncio.sleep(1.3)
        response = await api.post(RESET, json={"token": token, "new_password": NEW_PASSWORD})
        assert response.json()["code"] == "notify.invalid_token"


async def test_forgot_password_is_rate_limited_per_ip(notify_api, smtp_sink):
    async with notify_api(user={"password_reset_per_ip_per_hour": 2}) as api:
        for _ in range(2):
            response = await api.post(FORGOT, json={"email": f"{unique()}@example.com"})
            assert response.status_code == 202
        limited = await api.post(FORGOT, json={"email": f"{unique()}@example.com"})
        assert limited.status_code == 429
        assert limited.json()["code"] == "notify.reset_rate_limited"
        assert int(limited.headers["retry-after"]) > 0
