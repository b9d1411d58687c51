"""Refresh rotation, replay detection (family revocation) and logout."""

from __future__ import annotations

from tests.helpers import bearer, signed_in

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"


async def test_refresh_rotates_and_spends_the_old_token(api):
    user = await signed_in(api)
    response = await api.post(REFRESH, json={"refresh_token": user.refresh})
    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != user.refresh
    assert (await api.get(ME, headers=bearer(pair["access_token"]))).status_code == 200
    again = await api.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200


async def test_spent_refresh_token_revokes_family(api):
    user = await signed_in(api)
    rotated = (await api.post(REFRESH, json={"refresh_token": user.refresh})).json()

    replay = await api.post(REFRESH, json={"refresh_token": user.refresh})
    assert replay.status_code == 401
    assert replay.json()["code"] == "auth.refresh_token_reused"

    # The pair issued from the replayed token is dead too: refresh and access.
    follow_up = await api.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert follow_up.status_code == 401
    me = await api.get(ME, headers=bearer(rotated["access_token"]))
    assert me.status_code == 401
    assert me.json()["code"] == "auth.session_revoked"


async def test_replay_does_not_touch_other_sessions(api):
    user = await signed_in(api)
    other = (
        await api.post(
            "/api/v1/auth/login", json={"username": user.username, "password": user.password}
        )
    ).json()
    await api.post(REFRESH, json={"refresh_token": user.refresh})
    await api.post(REFRESH, json={"refresh_token": user.refresh})
    assert (await api.get(ME, headers=bearer(other["access_token"]))).status_code == 200
    assert (
        await api.post(REFRESH, json={"refresh_token": other["refresh_token"]})
    ).status_code == 200


async def test_unknown_refresh_token_is_401(api):
    response = await api.post(REFRESH, json={"refresh_token": "tsr_not-a-real-token"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_refresh_token"


async def test_access_token_is_not_a_refresh_token(api):
    user = await signed_in(api)
    response = await api.post(REFRESH, json={"refresh_token": user.access})
    assert response.status_code == 401


async def test_logout_rejects_the_access_token_and_revokes_refresh(api):
    user = await signed_in(api)
    response = await api.post(
        "/api/v1/auth/logout", json={"refresh_token": user.refresh}, headers=user.headers
    )
    assert response.status_code == 204
    me = await api.get(ME, headers=user.headers)
    assert me.status_code == 401
    assert me.json()["code"] in {"auth.token_revoked", "auth.session_revoked"}
    refresh = await api.post(REFRESH, json={"refresh_token": user.refresh})
    assert refresh.status_code == 401


async def test_logout_without_body_signs_out_this_device_only(api):
    user = await signed_in(api)
    other = (
        await api.post(
            "/api/v1/auth/login", json={"username": user.username, "password": user.password}
        )
    ).json()
    assert (await api.post("/api/v1/auth/logout", headers=user.headers)).status_code == 204
    assert (await api.post(REFRESH, json={"refresh_token": user.refresh})).status_code == 401
    assert (await api.get(ME, headers=bearer(other["access_token"]))).status_code == 200


async def test_logout_cannot_revoke_someone_elses_refresh_token(api):
    me = await signed_in(api)
    victim = await signed_in(api)
    response = await api.post(
        "/api/v1/auth/logout", json={"refresh_token": victim.refresh}, headers=me.headers
    )
    assert response.status_code == 204
    assert (await api.post(REFRESH, json={"refresh_token": victim.refresh})).status_code == 200


async def test_logout_needs_a_token(api):
    response = await api.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.missing_token"
