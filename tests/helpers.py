"""Small factories for tests: unique users, signed-in sessions, auth headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tessera.blocks.user import service as user_service

PASSWORD = "Tr1cky-Passphrase-42"


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class SignedIn:
    id: int
    username: str
    email: str
    password: str
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def access(self) -> str:
        return str(self.tokens["access_token"])

    @property
    def refresh(self) -> str:
        return str(self.tokens["refresh_token"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.access)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def register(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    name = fields.pop("username", None) or unique()
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD, **fields}
    response = await api.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def login(
    api: httpx.AsyncClient, username: str, password: str = PASSWORD, **headers: str
) -> dict[str, Any]:
    response = await api.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def signed_in(api: Any, *, role: str = "customer", **headers: str) -> SignedIn:
    """A new user with `role`, signed in; admins are made the way operators make them."""
    if role == "admin":
        name = unique("admin")
        user = await user_service.create_admin(
            runtime=api.runtime, username=name, email=f"{name}@example.com", password=PASSWORD
        )
        created = user.model_dump()
    else:
        created = await register(api)
        if role != "customer":
            async with api.runtime.db.transaction() as uow:
                from tessera.blocks.user import dao

                target = await dao.get_user(uow.session, created["id"])
                assert target is not None
                target.roles = await dao.roles_by_name(uow.session, [role])
    tokens = await login(api, created["username"], **headers)
    return SignedIn(created["id"], created["username"], created["email"], PASSWORD, tokens)


async def drain(api: Any) -> int:
    """Deliver every due outbox event now (the in-process worker is off in tests)."""
    from tessera.lib.tasks import OutboxWorker

    worker = OutboxWorker(api.runtime.db, api.runtime.events, api.settings.tasks)
    return await worker.drain()
