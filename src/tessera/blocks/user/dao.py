"""Queries of the user block (SQLAlchemy 2). Functions flush, never commit: the service owns
the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tessera.blocks.user.model.do import (
    AuthSessionDO,
    LoginAuditDO,
    MfaRecoveryCodeDO,
    RefreshTokenDO,
    RoleDO,
    UserDO,
    user_role,
)
from tessera.lib.db import escape_like


async def get_user(session: AsyncSession, user_id: int) -> UserDO | None:
    return await session.get(UserDO, user_id)


async def find_user_by_login(session: AsyncSession, identifier: str) -> UserDO | None:
    lowered = identifier.strip().lower()
    column = UserDO.email if "@" in lowered else UserDO.username_key
    result = await session.execute(select(UserDO).where(column == lowered))
    return result.scalar_one_or_none()


async def username_or_email_taken(
    session: AsyncSession, *, username_key: str, email: str
) -> tuple[bool, bool]:
    rows = await session.execute(
        select(UserDO.username_key, UserDO.email).where(
            or_(UserDO.username_key == username_key, UserDO.email == email)
        )
    )
    found = rows.all()
    return (
        any(row.username_key == username_key for row in found),
        any(row.email == email for row in found),
    )


async def add_user(session: AsyncSession, user: UserDO) -> UserDO:
    session.add(user)
    await session.flush()
    return user


async def roles_by_name(session: AsyncSession, names: Sequence[str]) -> list[RoleDO]:
    if not names:
        return []
    result = await session.execute(select(RoleDO).where(RoleDO.name.in_(list(names))))
    return list(result.scalars())


async def list_roles(session: AsyncSession) -> list[RoleDO]:
    result = await session.execute(select(RoleDO).order_by(RoleDO.name))
    return list(result.scalars())


def user_filters(q: str | None, role: str | None, is_active: bool | None) -> list[Any]:
    """The conditions of `GET /users` (and of the users export)."""
    conditions: list[Any] = []
    if q:
        pattern = "%" + escape_like(q.lower()) + "%"
        conditions.append(
            or_(
                UserDO.username_key.like(pattern, escape="\\"),
                UserDO.email.like(pattern, escape="\\"),
                func.lower(UserDO.display_name).like(pattern, escape="\\"),
            )
        )
    if role:
        conditions.append(
            UserDO.id.in_(
                select(user_role.c.user_id)
                .join(RoleDO, RoleDO.id == user_role.c.role_id)
                .where(RoleDO.name == role)
            )
        )
    if is_active is not None:
        conditions.append(UserDO.is_active == is_active)
    return conditions


async def search_users(
    session: AsyncSession,
    *,
    q: str | None,
    role: str | None,
    is_active: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[UserDO], int]:
    query = select(UserDO).where(*user_filters(q, role, is_active))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(UserDO.id).offset(offset).limit(limit))
    return list(rows.scalars()), int(total or 0)


async def count_users(session: AsyncSession, conditions: list[Any]) -> int:
    return int(await session.scalar(select(func.count(UserDO.id)).where(*conditions)) or 0)


async def user_page(
    session: AsyncSession, conditions: list[Any], *, after_id: int, limit: int
) -> list[tuple[object, ...]]:
    """Export rows (id, username, email, phone, display_name, roles, is_active,
    email_verified, created_at) with id > `after_id`; roles comma-separated."""
    users = (
        await session.execute(
            select(
                UserDO.id,
                UserDO.username,
                UserDO.email,
                UserDO.phone,
                UserDO.display_name,
                UserDO.is_active,
                UserDO.email_verified_at,
                UserDO.created_at,
            )
            .where(*conditions, UserDO.id > after_id)
            .order_by(UserDO.id)
            .limit(limit)
        )
    ).all()
    if not users:
        return []
    roles: dict[int, list[str]] = {}
    rows = await session.execute(
        select(user_role.c.user_id, RoleDO.name)
        .join(RoleDO, RoleDO.id == user_role.c.role_id)
        .where(user_role.c.user_id.in_([user.id for user in users]))
        .order_by(RoleDO.name)
    )
    for user_id, name in rows:
        roles.setdefault(user_id, []).append(name)
    return [
        (
            user.id,
            user.username,
            user.email,
            user.phone,
            user.display_name,
            ", ".join(roles.get(user.id, [])),
            user.is_active,
            user.email_verified_at is not None,
            user.created_at,
        )
        for user in users
    ]


async def add_session(session: AsyncSession, auth_session: AuthSessionDO) -> None:
    session.add(auth_session)
    await session.flush()


async def get_session(session: AsyncSession, session_id: str) -> AuthSessionDO | None:
    return await session.get(AuthSessionDO, session_id)


async def add_refresh_token(session: AsyncSession, token: RefreshTokenDO) -> None:
    session.add(token)
    await session.flush()


async def find_refresh_token(
    session: AsyncSession, token_hash: str
) -> tuple[RefreshTokenDO, AuthSessionDO] | None:
    result = await session.execute(
        select(RefreshTokenDO, AuthSessionDO)
        .join(AuthSessionDO, AuthSessionDO.id == RefreshTokenDO.session_id)
        .where(RefreshTokenDO.token_hash == token_hash)
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def spend_refresh_token(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Mark a refresh token used; False if someone else spent it first (a replay)."""
    result = await session.execute(
        update(RefreshTokenDO)
        .where(RefreshTokenDO.id == token_id, RefreshTokenDO.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def active_sessions(
    session: AsyncSession, user_id: int, now: datetime
) -> list[AuthSessionDO]:
    result = await session.execute(
        select(AuthSessionDO)
        .where(
            AuthSessionDO.user_id == user_id,
            AuthSessionDO.revoked_at.is_(None),
            AuthSessionDO.expires_at > now,
        )
        .order_by(AuthSessionDO.last_used_at.desc())
    )
    return list(result.scalars())


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: int,
    now: datetime,
    reason: str,
    only_ids: Sequence[str] | None = None,
    except_id: str | None = None,
) -> list[str]:
    """Revoke matching live sessions of a user; returns the ids that were revoked."""
    query = select(AuthSessionDO.id).where(
        AuthSessionDO.user_id == user_id, AuthSessionDO.revoked_at.is_(None)
    )
    if only_ids is not None:
        query = query.where(AuthSessionDO.id.in_(list(only_ids)))
    if except_id is not None:
        query = query.where(AuthSessionDO.id != except_id)
    ids = list((await session.execute(query)).scalars())
    if ids:
        await session.execute(
            update(AuthSessionDO)
            .where(AuthSessionDO.id.in_(ids))
            .values(revoked_at=now, revoked_reason=reason)
        )
    return ids


async def add_login_audit(session: AsyncSession, entry: LoginAuditDO) -> None:
    session.add(entry)
    await session.flush()


async def search_login_audit(
    session: AsyncSession,
    *,
    user_id: int | None,
    outcome: str | None,
    offset: int,
    limit: int,
) -> tuple[list[LoginAuditDO], int]:
    query = select(LoginAuditDO)
    if user_id is not None:
        query = query.where(LoginAuditDO.user_id == user_id)
    if outcome is not None:
        query = query.where(LoginAuditDO.outcome == outcome)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(LoginAuditDO.id.desc()).offset(offset).limit(limit))
    return list(rows.scalars()), int(total or 0)


async def find_user_by_verified_phone(session: AsyncSession, phone: str) -> UserDO | None:
    result = await session.execute(
        select(UserDO)
        .where(UserDO.phone == phone, UserDO.phone_verified_at.is_not(None))
        .order_by(UserDO.id)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def find_user_by_email(session: AsyncSession, email: str) -> UserDO | None:
    result = await session.execute(select(UserDO).where(UserDO.email == email.strip().lower()))
    return result.scalar_one_or_none()


async def replace_recovery_codes(session: AsyncSession, user_id: int, hashes: list[str]) -> None:
    await session.execute(delete(MfaRecoveryCodeDO).where(MfaRecoveryCodeDO.user_id == user_id))
    session.add_all(MfaRecoveryCodeDO(user_id=user_id, code_hash=value) for value in hashes)
    await session.flush()


async def use_recovery_code(
    session: AsyncSession, user_id: int, code_hash: str, now: datetime
) -> bool:
    """Spend one unused recovery code; False if it does not exist or was already used."""
    result = await session.execute(
        update(MfaRecoveryCodeDO)
        .where(
            MfaRecoveryCodeDO.user_id == user_id,
            MfaRecoveryCodeDO.code_hash == code_hash,
            MfaRecoveryCodeDO.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
