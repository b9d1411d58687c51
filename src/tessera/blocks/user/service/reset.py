"""Password reset for a user who cannot sign in: a single-use link by mail, or an SMS code to
the verified phone. Either way every session of the user ends.

`forgot_password` answers the same and does the same work whether or not the address has an
account (rate limits + one `user.password_reset_requested` event); the consumer that mails
the link (notify) calls `issue_password_reset`, which decides. The new password is checked
against the policy before the token or code is spent, so a refused one can be corrected.
"""

from __future__ import annotations

from pydantic import SecretStr

from tessera.blocks.user import dao
from tessera.blocks.user.events import PASSWORD_RESET_REQUESTED, PasswordResetRequested
from tessera.blocks.user.model.dto import IssuedLink, ResetPasswordIn
from tessera.blocks.user.service.codes import (
    check_code,
    find_user_id_by_verified_phone,
    parse_phone,
)
from tessera.blocks.user.service.common import log, raise_if_weak
from tessera.blocks.user.service.contacts import find_user_id_by_email, get_contact
from tessera.blocks.user.service.limits import hit, limits_of
from tessera.lib.db import utcnow
from tessera.lib.errors import NotFound, Unauthorized, ValidationFailed
from tessera.lib.otp import one_time_codes
from tessera.lib.runtime import Runtime
from tessera.lib.tasks import publish

PASSWORD_RESET = "password_reset"  # noqa: S105 - the token purpose (a Redis key part)


async def forgot_password(*, runtime: Runtime, email: str, ip: str | None) -> None:
    """Same answer and the same work whether or not the address exists: one event."""
    limits = limits_of(runtime)
    await hit(runtime, limits.password_forgot_ip, ip or "unknown")
    normalized = email.strip().lower()
    # Per address too, so nobody can flood someone's inbox from many addresses.
    await hit(runtime, limits.password_forgot_email, normalized)
    async with runtime.db.transaction() as uow:
        await publish(
            uow, runtime.events, PASSWORD_RESET_REQUESTED, PasswordResetRequested(email=normalized)
        )


async def issue_password_reset(*, runtime: Runtime, email: str) -> IssuedLink | None:
    """A reset link token for the active account with this address, for the consumer to mail;
    None when no account has it (nothing is sent)."""
    user_id = await find_user_id_by_email(runtime=runtime, email=email)
    if user_id is None:
        return None
    contact = await get_contact(runtime=runtime, user_id=user_id)
    if contact is None:
        return None
    ttl = runtime.settings.user.password_reset_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        PASSWORD_RESET, {"user_id": user_id}, ttl_seconds=ttl
    )
    return IssuedLink(token=SecretStr(token), ttl_seconds=ttl, contact=contact)


async def reset_password(*, runtime: Runtime, data: ResetPasswordIn, ip: str | None) -> None:
    """Set a new password proven by a reset link's token, or by a verified phone and its code
    (purpose `reset_password`); every session of the user is signed out."""
    if data.token is not None:
        user_id = await _spend_reset_token(runtime, data.token, data.new_password)
    else:
        assert data.phone is not None
        assert data.code is not None
        user_id = await _spend_reset_code(runtime, data.phone, data.code, data.new_password, ip)
    await _set_password(runtime, user_id, data.new_password)


def _invalid_link() -> ValidationFailed:
    return ValidationFailed(
        "The link is invalid, expired or already used.",
        code="notify.invalid_token",
        errors=[
            {"loc": ["body", "token"], "msg": "invalid, expired or used", "type": "value_error"}
        ],
    )


async def _spend_reset_token(runtime: Runtime, token: str, new_password: str) -> int:
    store = one_time_codes(runtime)
    data = await store.peek_token(PASSWORD_RESET, token)
    if data is None:
        raise _invalid_link()
    user_id = int(data["user_id"])
    await _check_policy(runtime, user_id, new_password)
    if await store.consume_token(PASSWORD_RESET, token) is None:
        raise _invalid_link()
    return user_id


async def _spend_reset_code(
    runtime: Runtime, raw_phone: str, code: str, new_password: str, ip: str | None
) -> int:
    phone = parse_phone(runtime, raw_phone)
    user_id = await find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    # Policy first (not revealing whether the phone has an account), so a refused password
    # does not spend the code.
    await _check_policy(runtime, user_id, new_password)
    await check_code(runtime, purpose="reset_password", phone=phone, code=code, ip=ip)
    if user_id is None:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")
    return user_id


async def _check_policy(runtime: Runtime, user_id: int | None, new_password: str) -> None:
    """422 if `new_password` breaks the policy (for this user, when known)."""
    username = None
    if user_id is not None:
        async with runtime.db.read() as session:
            user = await dao.get_user(session, user_id)
            username = user.username if user is not None else None
    raise_if_weak(new_password, username)


async def _set_password(runtime: Runtime, user_id: int, new_password: str) -> None:
    new_hash = await runtime.passwords.hash(new_password)
    now = utcnow()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None or not user.is_active:
            raise NotFound("No such user.", code="user.not_found")
        user.password_hash = new_hash
        user.password_changed_at = now
        revoked = await dao.revoke_sessions(
            uow.session, user_id=user_id, now=now, reason="password_reset"
        )
    await runtime.revocations.revoke_sessions(revoked)
    log.info("password_reset", user_id=user_id, sessions_revoked=len(revoked))
