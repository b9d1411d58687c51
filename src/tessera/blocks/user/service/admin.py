"""User administration (permission `user:manage`), the sign-in audit (`audit:read`) and the
operators' `create_admin` (CLI)."""

from __future__ import annotations

from tessera.blocks.user import dao
from tessera.blocks.user.model.do import UserDO
from tessera.blocks.user.model.dto import (
    AdminUpdateUserIn,
    LoginAuditOut,
    RegisterIn,
    RoleOut,
    UserOut,
)
from tessera.blocks.user.service.common import (
    ADMIN_ROLE,
    log,
    raise_if_taken,
    raise_if_weak,
    user_changed,
    user_out,
)
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound, ValidationFailed
from tessera.lib.pagination import Page, PageParams
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


async def get_user(*, runtime: Runtime, user_id: int) -> UserOut:
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        return user_out(user)


async def list_users(
    *,
    runtime: Runtime,
    paging: PageParams,
    q: str | None,
    role: str | None,
    is_active: bool | None,
) -> Page[UserOut]:
    async with runtime.db.read() as session:
        users, total = await dao.search_users(
            session, q=q, role=role, is_active=is_active, offset=paging.offset, limit=paging.size
        )
        items = [user_out(user) for user in users]
    return Page[UserOut].of(items, total, paging)


async def admin_update_user(
    *, runtime: Runtime, actor: Principal, user_id: int, data: AdminUpdateUserIn
) -> UserOut:
    """Change roles or the active flag; disabling signs the user out everywhere at once."""
    revoked: list[str] = []
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if data.roles is not None:
            wanted = sorted(set(data.roles))
            roles = await dao.roles_by_name(uow.session, wanted)
            unknown = sorted(set(wanted) - {role.name for role in roles})
            if unknown:
                raise ValidationFailed(
                    f"Unknown roles: {', '.join(unknown)}.",
                    code="user.unknown_role",
                    errors=[
                        {"loc": ["body", "roles"], "msg": f"unknown role {name}", "type": "enum"}
                        for name in unknown
                    ],
                )
            if user.id == actor.id and ADMIN_ROLE not in wanted:
                raise Conflict("You cannot remove your own admin role.", code="user.self_demotion")
            user.roles = roles
        if data.is_active is not None:
            if user.id == actor.id and not data.is_active:
                raise Conflict("You cannot disable your own account.", code="user.self_disable")
            user.is_active = data.is_active
            if not data.is_active:
                revoked = await dao.revoke_sessions(
                    uow.session, user_id=user.id, now=utcnow(), reason="user_disabled"
                )
        await uow.session.flush()
        out = user_out(user)
        user_changed(uow, runtime, user_id)
    await runtime.revocations.revoke_sessions(revoked)
    log.info("user_updated_by_admin", user_id=user_id, actor_id=actor.id)
    return out


async def logout_everywhere(*, runtime: Runtime, user_id: int) -> int:
    async with runtime.db.transaction() as uow:
        if await dao.get_user(uow.session, user_id) is None:
            raise NotFound("No such user.", code="user.not_found")
        revoked = await dao.revoke_sessions(
            uow.session, user_id=user_id, now=utcnow(), reason="admin_logout_all"
        )
    await runtime.revocations.revoke_sessions(revoked)
    return len(revoked)


async def list_roles(*, runtime: Runtime) -> list[RoleOut]:
    async with runtime.db.read() as session:
        roles = await dao.list_roles(session)
        return [
            RoleOut(
                name=role.name,
                description=role.description,
                permissions=[permission.code for permission in role.permissions],
            )
            for role in roles
        ]


async def list_login_audit(
    *, runtime: Runtime, paging: PageParams, user_id: int | None, outcome: str | None
) -> Page[LoginAuditOut]:
    async with runtime.db.read() as session:
        rows, total = await dao.search_login_audit(
            session, user_id=user_id, outcome=outcome, offset=paging.offset, limit=paging.size
        )
    items = [LoginAuditOut.model_validate(row, from_attributes=True) for row in rows]
    return Page[LoginAuditOut].of(items, total, paging)


async def create_admin(*, runtime: Runtime, username: str, email: str, password: str) -> UserOut:
    """Operator use case (CLI): an active user holding the admin role."""
    data = RegisterIn(username=username, email=email, password=password)
    raise_if_weak(data.password, data.username, field="password")
    password_hash = await runtime.passwords.hash(data.password)
    async with runtime.db.transaction() as uow:
        name_taken, email_taken = await dao.username_or_email_taken(
            uow.session, username_key=data.username.lower(), email=data.email.lower()
        )
        raise_if_taken(name_taken=name_taken, email_taken=email_taken)
        user = UserDO(
            username=data.username,
            username_key=data.username.lower(),
            email=data.email.lower(),
            password_hash=password_hash,
            roles=await dao.roles_by_name(uow.session, [ADMIN_ROLE]),
        )
        await dao.add_user(uow.session, user)
        return user_out(user)
