"""Issue 9 item 4: Redis is a cache of revocations, never their only record. After Redis
loses everything (a restart without persistence), what was signed out stays signed out:
the database (`auth_session.revoked_at`, disabled users) decides on a cache miss."""

from __future__ import annotations

from tests.conftest import Api
from tests.helpers import PASSWORD, bearer, login, signed_in

ME = "/api/v1/users/me"


async def redis_restarts_empty(api: Api) -> None:
    """What a Redis restart without persistence does to this installation's keys."""
    await api.runtime.cache.delete_prefix(api.runtime.keys.prefix + ":")


async def test_logged_out_access_token_stays_refused(api: Api):
    user = await signed_in(api)
    assert (await api.post("/api/v1/auth/logout", headers=user.headers)).status_code == 204
    assert (await api.get(ME, headers=user.headers)).status_code == 401
    await redis_restarts_empty(api)
    refused = await api.get(ME, headers=user.headers)
    assert refused.status_code == 401
    assert refused.json()["code"] in ("auth.session_revoked", "auth.token_revoked")
    again = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert again.status_code == 401


async def test_revoked_session_stays_refused(api: Api):
    user = await signed_in(api)
    other = await login(api, user.username)
    sessions = (await api.get("/api/v1/users/me/sessions", headers=user.headers)).json()
    current = {session["id"] for session in sessions if session.get("current")}
    target = next(session["id"] for session in sessions if session["id"] not in current)
    revoked = await api.delete(f"/api/v1/users/me/sessions/{target}", headers=user.headers)
    assert revoked.status_code == 204
    await redis_restarts_empty(api)
    assert (await api.get(ME, headers=bearer(other["access_token"]))).status_code == 401
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    assert (await api.get(ME, headers=user.headers)).status_code == 200


async def test_password_change_signs_other_sessions_out_for_good(api: Api):
    user = await signed_in(api)
    other = await login(api, user.username)
    changed = await api.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "An0ther-Long-Passphrase"},
        headers=user.headers,
    )
    assert changed.status_code == 204, changed.text
    await redis_restarts_empty(api)
    assert (await api.get(ME, headers=bearer(other["access_token"]))).status_code == 401
    assert (await api.get(ME, headers=user.headers)).status_code == 200


async def test_disabled_user_stays_refused(api: Api):
    admin = await signed_in(api, role="admin")
    user = await signed_in(api)
    disabled = await api.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert disabled.status_code == 200
    await redis_restarts_empty(api)
    assert (await api.get(ME, headers=user.headers)).status_code == 401
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert refresh.status_code == 401


async def test_a_token_for_a_session_the_database_does_not_know_is_refused(api: Api):
    """A correctly signed token whose session never existed (or was deleted): refused."""
    import uuid

    import jwt

    user = await signed_in(api)
    claims = jwt.decode(user.access, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sid": uuid.uuid4().hex}, api.settings.jwt_signing_secret)
    refused = await api.get(ME, headers=bearer(forged))
    assert refused.status_code == 401
    assert refused.json()["code"] == "auth.session_revoked"
