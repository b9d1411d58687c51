"""Sign-in: tokens, identical failures for unknown users, lock-out, OAuth2 form, audit."""

from __future__ import annotations

import time

from tests.helpers import PASSWORD, bearer, register, signed_in, unique

LOGIN = "/api/v1/auth/login"


async def test_login_returns_token_pair(api):
    user = await register(api)
    response = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"] != body["access_token"]
    me = await api.get("/api/v1/users/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == user["id"]


async def test_login_accepts_email_and_any_case(api):
    user = await register(api)
    for identifier in (user["email"].upper(), user["username"].upper()):
        response = await api.post(LOGIN, json={"username": identifier, "password": PASSWORD})
        assert response.status_code == 200, identifier


async def test_wrong_password_and_unknown_user_look_the_same(api):
    user = await register(api)
    wrong = await api.post(LOGIN, json={"username": user["username"], "password": "nope-nope"})
    unknown = await api.post(LOGIN, json={"username": unique(), "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "auth.invalid_credentials"
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_unknown_user_costs_a_password_check(api_with):
    # With a deliberately slow hash, an unknown user must not answer much faster than a known
    # one (it would reveal which usernames exist).
    async with api_with(
        security={"argon2_memory_kib": 32768, "argon2_time_cost": 2},
        ratelimit={"enabled": False},
    ) as api:
        user = await register(api)
        await api.post(LOGIN, json={"username": unique(), "password": "warm-up-x"})

        async def timed(username: str) -> float:
            started = time.perf_counter()
            await api.post(LOGIN, json={"username": username, "password": "wrong-pass"})
            return time.perf_counter() - started

        known = min([await timed(user["username"]) for _ in range(3)])
        unknown = min([await timed(unique()) for _ in range(3)])
        assert unknown > known * 0.5


async def test_failed_logins_lock_the_account_with_retry_after(api):
    user = await register(api)
    for _ in range(5):
        response = await api.post(
            LOGIN, json={"username": user["username"], "password": "bad-pw-1"}
        )
        assert response.status_code == 401
    locked = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.locked"
    assert 0 < int(locked.headers["retry-after"]) <= 900


async def test_failed_logins_from_one_ip_are_limited_across_accounts(api_with):
    async with api_with(user={"login_failures_per_ip": 3}) as api:
        for _ in range(3):
            await api.post(LOGIN, json={"username": unique(), "password": "bad-pw-1"})
        user = await register(api)
        response = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
        assert response.status_code == 429


async def test_successful_login_resets_the_account_counter(api_with):
    async with api_with(user={"login_failures_per_ip": 100}) as api:
        user = await register(api)
        for _ in range(4):
            await api.post(LOGIN, json={"username": user["username"], "password": "bad-pw-1"})
        ok = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
        assert ok.status_code == 200
        for _ in range(4):
            await api.post(LOGIN, json={"username": user["username"], "password": "bad-pw-1"})
        still_ok = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
        assert still_ok.status_code == 200


async def test_oauth2_password_form_issues_tokens(api):
    user = await register(api)
    response = await api.post(
        "/api/v1/auth/token",
        data={"username": user["username"], "password": PASSWORD, "grant_type": "password"},
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    bad = await api.post("/api/v1/auth/token", data={"username": user["username"]})
    assert bad.status_code == 422


async def test_every_sign_in_is_audited(api):
    admin = await signed_in(api, role="admin")
    user = await register(api)
    await api.post(
        LOGIN,
        json={"username": user["username"], "password": "bad-pw-1"},
        headers={"User-Agent": "pytest-agent/1"},
    )
    await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
    response = await api.get(
        "/api/v1/audit/logins", params={"user_id": user["id"]}, headers=admin.headers
    )
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 2
    outcomes = [item["outcome"] for item in page["items"]]
    assert outcomes == ["success", "invalid_credentials"]
    failed = page["items"][1]
    assert failed["ip"] == "127.0.0.1"
    assert failed["user_agent"] == "pytest-agent/1"
    only_failures = await api.get(
        "/api/v1/audit/logins",
        params={"user_id": user["id"], "outcome": "invalid_credentials"},
        headers=admin.headers,
    )
    assert only_failures.json()["total"] == 1


async def test_audit_is_for_admins_only(api):
    customer = await signed_in(api)
    response = await api.get("/api/v1/audit/logins", headers=customer.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "auth.permission_denied"


async def test_disabled_account_cannot_sign_in(api):
    admin = await signed_in(api, role="admin")
    user = await register(api)
    await api.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin.headers)
    response = await api.post(LOGIN, json={"username": user["username"], "password": PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.user_inactive"
