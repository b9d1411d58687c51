"""The signed-in user: profile, password change, and their own sessions (devices)."""

from __future__ import annotations

from tessera.blocks.user import dao
from tessera.blocks.user.model.dto import ChangePasswordIn, SessionOut, UpdateMeIn, UserOut
from tessera.blocks.user.service.admin import get_user
from tessera.blocks.user.service.common import raise_if_weak, user_changed, user_out
from tessera.lib.db import utcnow
from tessera.lib.errors import NotFound, ValidationFailed
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal


async def get_me(*, runtime: Runtime, principal: Principal) -> UserOut:
    if principal.profile is not None:
        return UserOut.model_validate(principal.profile)
    return await get_user(runtime=runtime, user_id=principal.id)


async def update_me(*, runtime: Runtime, principal: Principal, data: UpdateMeIn) -> UserOut:
    changes = data.model_dump(exclude_unset=True)
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if "phone" in changes and changes["phone"] != user.phone:
            # A new number has not been proven: it needs POST /users/me/phone with a code.
            user.phone_verified_at = None
        for field_name in ("display_name", "phone", "locale"):
            if field_name in changes:
                setattr(user, field_name, changes[field_name])
        await uow.session.flush()
        user_changed(uow, runtime, user.id)
        return user_out(user)


async def set_avatar_url(*, runtime: Runtime, user_id: int, url: str | None) -> None:
    """Record where the user's avatar is served (called by the file block)."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.avatar_url = url
        user_changed(uow, runtime, user_id)


async def change_password(
    *, runtime: Runtime, principal: Principal, data: ChangePasswordIn
) -> None:
    """New password; every other session of the user is signed out."""
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        current_hash, username = user.password_hash, user.username
    if not await runtime.passwords.verify(current_hash, data.current_password):
        raise ValidationFailed(
            "The current password is wrong.",
            code="user.wrong_password",
            errors=[
                {"loc": ["body", "current_password"], "msg": "wrong password", "type": "wrong"}
            ],
        )
    raise_if_weak(
        data.new_password,
        username,
        also=(
            ["must differ from the current password"]
            if data.new_password == data.current_password
            else []
        ),
    )
    new_hash = await runtime.passwords.hash(data.new_password)
    now = utcnow()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.password_hash = new_hash
        user.password_changed_at = now
        revoked = await dao.revoke_sessions(
            uow.session,
            user_id=principal.id,
            now=now,
            reason="password_changed",
            except_id=principal.session_id,
        )
    await runtime.revocations.revoke_sessions(revoked)


async def list_my_sessions(*, runtime: Runtime, principal: Principal) -> list[SessionOut]:
    async with runtime.db.read() as session:
        rows = await dao.active_sessions(session, principal.id, utcnow())
    return [
        SessionOut(
            id=row.id,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            ip=row.ip,
            user_agent=row.user_agent,
            current=row.id == principal.session_id,
        )
        for row in rows
    ]


async def revoke_my_session(*, runtime: Runtime, principal: Principal, session_id: str) -> None:
    async with runtime.db.transaction() as uow:
        revoked = await dao.revoke_sessions(
            uow.session,
            user_id=principal.id,
            now=utcnow(),
            reason="signed_out_by_user",
            only_ids=[session_id],
        )
        if not revoked:
            raise NotFound("No such session.", code="session.not_found")
    await runtime.revocations.revoke_sessions(revoked)
