"""Registration: field rules, password policy, duplicates, rate limit, the user JSON."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD, register, unique

REGISTER = "/api/v1/auth/register"


async def test_register_returns_user_without_secrets(api):
    name = unique("Alice")
    response = await api.post(
        REGISTER,
        json={"username": name, "email": f"{name}@Example.com", "password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "phone",
        "display_name",
        "locale",
        "roles",
        "is_active",
        "created_at",
        "email_verified",
        "phone_verified",
        "mfa_enabled",
        "avatar_url",
    }
    assert body["email_verified"] is False
    assert body["username"] == name
    assert body["email"] == f"{name}@example.com".lower()
    assert body["roles"] == ["customer"]
    assert body["is_active"] is True
    assert body["created_at"].endswith("Z")
    assert PASSWORD not in response.text
    assert "argon2" not in response.text


# Breaking the documented schema is `request.validation_failed`; the rules JSON Schema cannot
# say (a usable address, a password not too common) have their own code.
@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("username", "ab", "request.validation_failed"),
        ("username", "x" * 33, "request.validation_failed"),
        ("username", "bad name", "request.validation_failed"),
        ("username", "ünïcode", "request.validation_failed"),
        ("email", "not-an-email", "request.invalid_email"),
        ("password", "short1!", "request.validation_failed"),
        ("password", "password123", "user.weak_password"),
        ("password", "Password2024!", "user.weak_password"),
        ("password", "aaaaaaaaaaaa", "user.weak_password"),
        ("phone", "call me", "request.validation_failed"),
    ],
)
async def test_invalid_registration_is_422_naming_the_field(api, field, value, code):
    name = unique()
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, field: value}
    response = await api.post(REGISTER, json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == code
    assert response.headers["content-type"] == "application/problem+json"
    assert any(error["loc"][-1] == field for error in problem["errors"])
    login = await api.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 401


async def test_password_equal_to_username_is_refused(api):
    name = unique("Longname")
    response = await api.post(
        REGISTER, json={"username": name, "email": f"{name}@example.com", "password": name.upper()}
    )
    assert response.status_code == 422
    assert "username" in response.text


async def test_duplicate_username_is_409_case_insensitively(api):
    first = await register(api)
    response = await api.post(
        REGISTER,
        json={
            "username": first["username"].upper(),
            "email": f"{unique()}@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "user.username_taken"


async def test_duplicate_email_is_409(api):
    first = await register(api)
    response = await api.post(
        REGISTER,
        json={"username": unique(), "email": first["email"].upper(), "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "user.email_taken"


async def test_unknown_fields_are_rejected(api):
    name = unique()
    response = await api.post(
        REGISTER,
        json={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "roles": ["admin"],
        },
    )
    assert response.status_code == 422


async def test_registration_is_rate_limited_per_ip(api_with):
    async with api_with(user={"register_per_ip": 3}) as api:
        for _ in range(3):
            await register(api)
        name = unique()
        response = await api.post(
            REGISTER,
            json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
        )
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["code"] == "auth.register_rate_limited"
