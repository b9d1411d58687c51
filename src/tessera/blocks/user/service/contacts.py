"""A user's contacts: verifying the email address (link by mail), binding a phone (proven by
an SMS code), and the lookups other blocks use to reach a user (`get_contact`).

The verification mail is sent by the notify block on `user.registered` and
`user.email_verification_requested`; it calls `issue_email_verification` for the link token.
Tokens are random, single use, stored hashed in Redis (`tessera.lib.otp`).
"""

from __future__ import annotations

from pydantic import SecretStr

from tessera.blocks.user import dao
from tessera.blocks.user.events import EMAIL_VERIFICATION_REQUESTED, EmailVerificationRequested
from tessera.blocks.user.model.dto import BindPhoneIn, ContactOut, IssuedLink, UserOut
from tessera.blocks.user.service.codes import check_code, parse_phone
from tessera.blocks.user.service.common import contact_of, user_changed, user_out
from tessera.blocks.user.service.limits import hit, limits_of
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from tessera.lib.otp import one_time_codes
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal
from tessera.lib.tasks import publish

EMAIL_VERIFY = "email_verify"  # the token purpose (a Redis key part): keep it stable


# --- lookups --------------------------------------------------------------------------------


async def get_contact(*, runtime: Runtime, user_id: int) -> ContactOut | None:
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
        return None if user is None else contact_of(user)


async def find_user_id_by_email(*, runtime: Runtime, email: str) -> int | None:
    """The active user with this address, if any."""
    async with runtime.db.read() as session:
        user = await dao.find_user_by_email(session, email)
        return user.id if user is not None and user.is_active else None


# --- email verification ---------------------------------------------------------------------


async def issue_email_verification(*, runtime: Runtime, user_id: int) -> IssuedLink | None:
    """A verification link token for the user's current address, for the consumer to mail;
    None when there is nothing to verify (no such user, or already verified)."""
    contact = await get_contact(runtime=runtime, user_id=user_id)
    if contact is None or contact.email_verified:
        return None
    ttl = runtime.settings.user.email_verify_ttl_seconds
    token = await one_time_codes(runtime).issue_token(
        EMAIL_VERIFY, {"user_id": contact.user_id, "email": contact.email}, ttl_seconds=ttl
    )
    return IssuedLink(token=SecretStr(token), ttl_seconds=ttl, contact=contact)


async def verify_email(*, runtime: Runtime, token: str) -> None:
    """Mark the address verified with the token of a verification link (single use)."""
    data = await one_time_codes(runtime).consume_token(EMAIL_VERIFY, token)
    if data is None or not await _mark_email_verified(
        runtime, user_id=int(data["user_id"]), email=str(data["email"])
    ):
        raise ValidationFailed(
            "The link is invalid, expired or already used.",
            code="notify.invalid_token",
            errors=[
                {"loc": ["body", "token"], "msg": "invalid, expired or used", "type": "value_error"}
            ],
        )


async def _mark_email_verified(runtime: Runtime, *, user_id: int, email: str) -> bool:
    """True once `email` is verified; False if the account no longer has that address."""
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, user_id)
        if user is None or user.email != email.lower():
            return False
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
            user_changed(uow, runtime, user_id)
    return True


async def resend_verification(*, runtime: Runtime, principal: Principal) -> None:
    """Ask for the verification link again: one per interval and a daily cap per user."""
    contact = await get_contact(runtime=runtime, user_id=principal.id)
    if contact is None:
        raise Unauthorized("The token's user no longer exists.", code="auth.user_not_found")
    if contact.email_verified:
        raise Conflict("The email address is already verified.", code="notify.already_verified")
    limits = limits_of(runtime)
    await hit(runtime, limits.email_resend, str(principal.id))
    await hit(runtime, limits.email_resend_day, str(principal.id))
    async with runtime.db.transaction() as uow:
        await publish(
            uow,
            runtime.events,
            EMAIL_VERIFICATION_REQUESTED,
            EmailVerificationRequested(user_id=contact.user_id),
            aggregate_id=contact.user_id,
        )


# --- phone ----------------------------------------------------------------------------------


async def bind_phone(
    *, runtime: Runtime, principal: Principal, data: BindPhoneIn, ip: str | None
) -> UserOut:
    """Make a phone proven by a code (purpose `bind_phone`) the user's verified number."""
    phone = parse_phone(runtime, data.phone)
    await check_code(runtime, purpose="bind_phone", phone=phone, code=data.code, ip=ip)
    async with runtime.db.transaction() as uow:
        owner = await dao.find_user_by_verified_phone(uow.session, phone)
        if owner is not None and owner.id != principal.id:
            raise Conflict("This phone number belongs to another account.", code="user.phone_taken")
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        user.phone = phone
        user.phone_verified_at = utcnow()
        await uow.session.flush()
        user_changed(uow, runtime, principal.id)
        return user_out(user)
