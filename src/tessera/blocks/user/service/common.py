"""What the user block's use-case modules share: DO → DTO views, the hook that drops a
changed user's cached principal, and the password policy raised as a domain error."""

from __future__ import annotations

import structlog

from tessera.blocks.user.model.do import UserDO
from tessera.blocks.user.model.dto import ContactOut, UserOut
from tessera.blocks.user.utility import password_problems
from tessera.lib.db import UnitOfWork
from tessera.lib.errors import Conflict, ValidationFailed
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal

log = structlog.get_logger("tessera.user")

BLOCK = "user"
DEFAULT_ROLE = "customer"
ADMIN_ROLE = "admin"


def user_out(user: UserDO) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        phone=user.phone,
        display_name=user.display_name,
        locale=user.locale,
        roles=[role.name for role in user.roles],
        is_active=user.is_active,
        created_at=user.created_at,
        email_verified=user.email_verified_at is not None,
        phone_verified=user.phone_verified_at is not None,
        mfa_enabled=user.mfa_enabled_at is not None,
        avatar_url=user.avatar_url,
    )


def contact_of(user: UserDO) -> ContactOut:
    return ContactOut(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        email_verified=user.email_verified_at is not None,
        phone=user.phone,
        phone_verified=user.phone_verified_at is not None,
        locale=user.locale,
        is_active=user.is_active,
        mfa_enabled=user.mfa_enabled_at is not None,
    )


def principal_of(user: UserDO) -> Principal:
    return Principal(
        id=user.id,
        username=user.username,
        is_active=user.is_active,
        roles=frozenset(role.name for role in user.roles),
        permissions=frozenset(
            permission.code for role in user.roles for permission in role.permissions
        ),
        profile=user_out(user).model_dump(mode="json"),
    )


def principal_key(runtime: Runtime, user_id: int) -> str:
    return runtime.cache.key(BLOCK, "principal", user_id)


def user_changed(uow: UnitOfWork, runtime: Runtime, user_id: int) -> None:
    """Every use case that changes a user (profile, roles, flags) calls this: the cached
    principal and profile are dropped once the change has committed."""

    async def forget() -> None:
        await runtime.cache.delete(principal_key(runtime, user_id))

    uow.after_commit(forget)


def truncate(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def raise_if_weak(
    new_password: str,
    username: str | None,
    also: list[str] | None = None,
    *,
    field: str = "new_password",
) -> None:
    problems = password_problems(new_password, username=username) + (also or [])
    if problems:
        raise ValidationFailed(
            "The password is not acceptable: " + "; ".join(problems) + ".",
            code="user.weak_password",
            errors=[
                {
                    "loc": ["body", field],
                    "msg": "password " + "; ".join(problems),
                    "type": "value_error",
                }
            ],
        )


def raise_if_taken(*, name_taken: bool, email_taken: bool) -> None:
    if name_taken:
        raise Conflict("This username is taken.", code="user.username_taken")
    if email_taken:
        raise Conflict("This email is already registered.", code="user.email_taken")
