"""Administration: permission checks, listing and filtering, roles, disabling, logout-all."""

from __future__ import annotations

import pytest

from tests.helpers import register, signed_in, unique

ME = "/api/v1/users/me"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/users/1"),
        ("PATCH", "/api/v1/users/1"),
        ("POST", "/api/v1/users/1/logout-all"),
        ("GET", "/api/v1/roles"),
        ("GET", "/api/v1/audit/logins"),
    ],
)
async def test_customer_gets_403_on_admin_endpoints(api, method, path):
    customer = await signed_in(api)
    response = await api.request(method, path, json={}, headers=customer.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "auth.permission_denied"
    anonymous = await api.request(method, path, json={})
    assert anonymous.status_code == 401


async def test_list_users_pages_and_filters(api):
    admin = await signed_in(api, role="admin")
    tag = unique("zz")
    created = [await register(api, username=f"{tag}{i}") for i in range(3)]
    page = (
        await api.get("/api/v1/users", params={"q": tag, "size": 2}, headers=admin.headers)
    ).json()
    assert page["total"] == 3
    assert page["size"] == 2
    assert [u["username"] for u in page["items"]] == [f"{tag}0", f"{tag}1"]
    second = (
        await api.get(
            "/api/v1/users", params={"q": tag, "size": 2, "page": 2}, headers=admin.headers
        )
    ).json()
    assert [u["username"] for u in second["items"]] == [f"{tag}2"]

    await api.patch(
        f"/api/v1/users/{created[0]['id']}", json={"is_active": False}, headers=admin.headers
    )
    inactive = (
        await api.get("/api/v1/users", params={"q": tag, "is_active": False}, headers=admin.headers)
    ).json()
    assert [u["id"] for u in inactive["items"]] == [created[0]["id"]]
    admins = (
        await api.get("/api/v1/users", params={"role": "admin"}, headers=admin.headers)
    ).json()
    assert admin.id in [u["id"] for u in admins["items"]]
    assert all("admin" in u["roles"] for u in admins["items"])


async def test_list_users_rejects_bad_paging(api):
    admin = await signed_in(api, role="admin")
    for params in ({"size": 101}, {"page": 0}, {"size": "many"}):
        response = await api.get("/api/v1/users", params=params, headers=admin.headers)
        assert response.status_code == 422, params


async def test_like_wildcards_in_search_are_literal(api):
    admin = await signed_in(api, role="admin")
    await register(api)
    page = (await api.get("/api/v1/users", params={"q": "%"}, headers=admin.headers)).json()
    assert page["total"] == 0


async def test_get_user_and_404(api):
    admin = await signed_in(api, role="admin")
    user = await register(api)
    response = await api.get(f"/api/v1/users/{user['id']}", headers=admin.headers)
    assert response.json() == user
    missing = await api.get("/api/v1/users/999999999", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "user.not_found"


async def test_roles_list_permissions(api):
    admin = await signed_in(api, role="admin")
    roles = (await api.get("/api/v1/roles", headers=admin.headers)).json()
    by_name = {role["name"]: role for role in roles}
    assert {"admin", "staff", "customer"} <= set(by_name)
    assert "user:manage" in by_name["admin"]["permissions"]
    assert "user:manage" not in by_name["customer"]["permissions"]


async def test_granting_admin_role_takes_effect_at_once(api):
    admin = await signed_in(api, role="admin")
    user = await signed_in(api)
    assert (await api.get("/api/v1/roles", headers=user.headers)).status_code == 403
    response = await api.patch(
        f"/api/v1/users/{user.id}", json={"roles": ["admin", "customer"]}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["admin", "customer"]
    assert (await api.get("/api/v1/roles", headers=user.headers)).status_code == 200


async def test_unknown_role_is_422_and_changes_nothing(api):
    admin = await signed_in(api, role="admin")
    user = await register(api)
    response = await api.patch(
        f"/api/v1/users/{user['id']}", json={"roles": ["wizard"]}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "user.unknown_role"
    fetched = (await api.get(f"/api/v1/users/{user['id']}", headers=admin.headers)).json()
    assert fetched["roles"] == ["customer"]


async def test_disabling_a_user_kills_their_tokens_at_once(api):
    admin = await signed_in(api, role="admin")
    user = await signed_in(api)
    assert (await api.get(ME, headers=user.headers)).status_code == 200  # principal now cached
    response = await api.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    me = await api.get(ME, headers=user.headers)
    assert me.status_code == 401
    assert me.json()["code"] in {"auth.user_inactive", "auth.session_revoked"}
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert refresh.status_code == 401


async def test_admin_cannot_lock_themselves_out(api):
    admin = await signed_in(api, role="admin")
    disable = await api.patch(
        f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )
    assert disable.status_code == 409
    demote = await api.patch(
        f"/api/v1/users/{admin.id}", json={"roles": ["customer"]}, headers=admin.headers
    )
    assert demote.status_code == 409
    assert (await api.get("/api/v1/roles", headers=admin.headers)).status_code == 200


async def test_logout_all_signs_out_every_device(api):
    admin = await signed_in(api, role="admin")
    user = await signed_in(api)
    response = await api.post(f"/api/v1/users/{user.id}/logout-all", headers=admin.headers)
    assert response.status_code == 204
    assert (await api.get(ME, headers=user.headers)).status_code == 401
    refresh = await api.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh})
    assert refresh.status_code == 401
    missing = await api.post("/api/v1/users/999999999/logout-all", headers=admin.headers)
    assert missing.status_code == 404
