"""Issue 9 item 1: two installations on one Redis with the same key prefix never see each
other's cached principals, lock-outs or any other key (same user ids on both sides)."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.conftest import Backend, make_settings, open_api
from tests.helpers import PASSWORD, bearer


async def _first_user(api, username: str, *, admin: bool) -> dict:
    from tessera.blocks.user import service as user_service

    if admin:
        user = await user_service.create_admin(
            runtime=api.runtime, username=username, email=f"{username}@a.example", password=PASSWORD
        )
        return user.model_dump()
    response = await api.post(
        "/api/v1/auth/register",
        json={"username": username, "email": f"{username}@b.example", "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _login(api, username: str, password: str = PASSWORD):
    return await api.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_two_installations_on_one_redis_share_nothing(
    two_installations: tuple[Backend, Backend], tmp_path: Path
):
    first, second = two_installations
    prefix = f"tessera-shared-{uuid.uuid4().hex[:8]}"  # the same prefix for both
    settings_a = make_settings(first, tmp_path / "a", cache={"key_prefix": prefix})
    settings_b = make_settings(second, tmp_path / "b", cache={"key_prefix": prefix})
    async with open_api(settings_a) as api_a, open_api(settings_b) as api_b:
        # User 1 of A is an administrator called "shared"; user 1 of B a customer of the
        # same name: fresh databases, so the ids really are equal.
        admin = await _first_user(api_a, "shared", admin=True)
        customer = await _first_user(api_b, "shared", admin=False)
        assert admin["id"] == customer["id"]

        login_b = await _login(api_b, "shared")
        login_a = await _login(api_a, "shared")
        assert login_a.status_code == login_b.status_code == 200
        # A reads (and caches) its principal first; B must still see its own user.
        me_a = await api_a.get("/api/v1/users/me", headers=bearer(login_a.json()["access_token"]))
        me_b = await api_b.get("/api/v1/users/me", headers=bearer(login_b.json()["access_token"]))
        assert me_a.json()["email"] == "shared@a.example"
        assert me_b.json()["email"] == "shared@b.example"
        assert "admin" in me_a.json()["roles"]
        assert "admin" not in me_b.json()["roles"]
        # B's customer is not treated as A's administrator.
        users_b = await api_b.get("/api/v1/users", headers=bearer(login_b.json()["access_token"]))
        assert users_b.status_code == 403

        # Lock A's account out; B's account of the same name signs in.
        for _ in range(api_a.settings.user.login_failures_per_account):
            assert (await _login(api_a, "shared", "wrong-password-1")).status_code == 401
        assert (await _login(api_a, "shared")).status_code == 429
        assert (await _login(api_b, "shared")).status_code == 200

        # Every key either one wrote lives under its own installation's namespace.
        id_a, id_b = api_a.runtime.keys.installation_id, api_b.runtime.keys.installation_id
        assert id_a
        assert id_b
        assert id_a != id_b
        keys = [key.decode() async for key in api_a.runtime.redis.scan_iter(match=f"{prefix}:*")]
        assert keys
        strays = [
            key for key in keys if not key.startswith((f"{prefix}:{id_a}:", f"{prefix}:{id_b}:"))
        ]
        assert strays == []
