"""Two-factor sign-in: TOTP enrolment (confirmed with a code, which hands out recovery
codes), the second step of a sign-in (TOTP, SMS code or recovery code), the SMS factor's
code request, and turning MFA off.

TOTP seeds are stored sealed under a key derived from the server secret; a code seen once is
refused for the rest of its window; recovery codes are stored hashed and work once.
"""

from __future__ import annotations

import base64
import io
import time

import pyotp
import qrcode  # type: ignore[import-untyped]  # ships no type information

from tessera.blocks.user import dao
from tessera.blocks.user.events import MFA_SMS_REQUESTED, MfaSmsRequested
from tessera.blocks.user.model.do import UserDO
from tessera.blocks.user.model.dto import RecoveryCodesOut, TokenPairOut, TotpSetupOut
from tessera.blocks.user.service.codes import hit_sms_limits
from tessera.blocks.user.service.common import log, user_changed
from tessera.blocks.user.service.contacts import get_contact
from tessera.blocks.user.service.limits import hit, limits_of
from tessera.blocks.user.service.sessions import (
    MFA_TOKEN_PURPOSE,
    audit_entry,
    open_session,
    record_login,
)
from tessera.blocks.user.utility import (
    RECOVERY_CODE_COUNT,
    TOTP_STEP_SECONDS,
    code_method,
    new_recovery_code,
    recovery_hash,
    totp_counter,
)
from tessera.lib.db import utcnow
from tessera.lib.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from tessera.lib.otp import one_time_codes, seal, unseal
from tessera.lib.runtime import Runtime
from tessera.lib.security import Principal, hash_token
from tessera.lib.tasks import publish
from tessera.lib.web import ClientInfo

TOTP_SEAL = "totp-secret"


def _wrong_code() -> ValidationFailed:
    return ValidationFailed(
        "The code is wrong.",
        code="auth.invalid_mfa_code",
        errors=[{"loc": ["body", "code"], "msg": "wrong code", "type": "wrong"}],
    )


def _expired() -> Unauthorized:
    return Unauthorized("The sign-in has expired; start again.", code="auth.mfa_token_invalid")


async def _totp_ok(runtime: Runtime, user_id: int, sealed_secret: str, code: str) -> bool:
    counter = totp_counter(unseal(runtime, TOTP_SEAL, sealed_secret), code, time.time())
    if counter is None:
        return False
    # A code seen once is refused for the rest of its window: no replay of an observed code.
    return await one_time_codes(runtime).first_use(
        f"totp:{user_id}", str(counter), ttl_seconds=TOTP_STEP_SECONDS * 4
    )


async def _second_factor_ok(runtime: Runtime, user: UserDO, method: str, code: str) -> bool:
    if method == "totp":
        return user.mfa_totp_secret is not None and await _totp_ok(
            runtime, user.id, user.mfa_totp_secret, code
        )
    if method == "sms":
        if user.phone is None or user.phone_verified_at is None:
            return False
        check = await one_time_codes(runtime).check_code(
            "mfa", user.phone, code, max_attempts=runtime.settings.user.code_max_attempts
        )
        return check.ok
    if method == "recovery_code":
        async with runtime.db.transaction() as uow:
            return await dao.use_recovery_code(uow.session, user.id, recovery_hash(code), utcnow())
    return False


async def complete_mfa_login(
    *, runtime: Runtime, mfa_token: str, code: str, method: str, client: ClientInfo
) -> TokenPairOut:
    """Second step of a sign-in: the `mfa_token` from step one plus a current code."""
    store = one_time_codes(runtime)
    data = await store.peek_token(MFA_TOKEN_PURPOSE, mfa_token)
    if data is None:
        raise _expired()
    if method not in data["methods"]:
        raise ValidationFailed(
            f"Method {method} is not available for this account.",
            code="auth.mfa_method_unavailable",
            errors=[{"loc": ["body", "method"], "msg": "not available", "type": "enum"}],
        )
    user_id = int(data["user_id"])
    limits = limits_of(runtime)
    await hit(runtime, limits.mfa_token, hash_token(mfa_token))
    # Per user too: fresh mfa_tokens (new password sign-ins) must not reset the budget.
    await hit(runtime, limits.mfa_user, str(user_id))
    async with runtime.db.read() as session:
        user = await dao.get_user(session, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
    if not await _second_factor_ok(runtime, user, method, code):
        await record_login(
            runtime,
            user_id=user_id,
            identifier=user.username_key,
            client=client,
            outcome="invalid_credentials",
        )
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_mfa_code")
    if await store.consume_token(MFA_TOKEN_PURPOSE, mfa_token) is None:
        raise _expired()
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, user_id)
        if fresh is None or not fresh.is_active:
            raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
        pair = await open_session(runtime, uow.session, fresh, client)
        await dao.add_login_audit(
            uow.session,
            audit_entry(
                user_id=user_id, identifier=fresh.username_key, client=client, outcome="success"
            ),
        )
    log.info("login_succeeded", user_id=user_id, second_factor=method)
    return pair


async def request_mfa_sms(*, runtime: Runtime, mfa_token: str, client: ClientInfo) -> None:
    """Ask for a sign-in code by SMS; the notify block sends it (event user.mfa_sms_requested)."""
    data = await one_time_codes(runtime).peek_token(MFA_TOKEN_PURPOSE, mfa_token)
    if data is None:
        raise _expired()
    if "sms" not in data["methods"]:
        raise ValidationFailed(
            "SMS is not available for this account.",
            code="auth.mfa_method_unavailable",
            errors=[{"loc": ["body", "mfa_token"], "msg": "no verified phone", "type": "value"}],
        )
    user_id = int(data["user_id"])
    contact = await get_contact(runtime=runtime, user_id=user_id)
    if contact is None or contact.phone is None:
        raise Unauthorized("This account cannot sign in.", code="auth.user_inactive")
    await hit_sms_limits(runtime, phone=contact.phone, ip=client.ip)
    async with runtime.db.transaction() as uow:
        await publish(
            uow,
            runtime.events,
            MFA_SMS_REQUESTED,
            MfaSmsRequested(user_id=user_id, phone=contact.phone, locale=contact.locale),
            aggregate_id=user_id,
        )


async def begin_totp(*, runtime: Runtime, principal: Principal) -> TotpSetupOut:
    """A new TOTP secret to scan; it protects sign-ins once confirmed with a code."""
    secret = pyotp.random_base32()
    async with runtime.db.transaction() as uow:
        user = await dao.get_user(uow.session, principal.id)
        if user is None:
            raise NotFound("No such user.", code="user.not_found")
        if user.mfa_enabled_at is not None:
            raise Conflict(
                "Two-factor sign-in is already on; turn it off first.", code="user.mfa_enabled"
            )
        # Stored encrypted: a leaked database must not hand out working second factors.
        user.mfa_totp_secret = seal(runtime, TOTP_SEAL, secret)
        label = user.email
    uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name="Tessera")
    image = qrcode.make(uri)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return TotpSetupOut(
        secret=secret,
        otpauth_uri=uri,
        qr_png_base64=base64.b64encode(buffer.getvalue()).decode(),
    )


async def confirm_totp(*, runtime: Runtime, principal: Principal, code: str) -> RecoveryCodesOut:
    """Turn MFA on with a first code from the authenticator; returns the recovery codes."""
    await hit(runtime, limits_of(runtime).mfa_confirm, str(principal.id))
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
    if user is None:
        raise NotFound("No such user.", code="user.not_found")
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.", code="user.mfa_enabled")
    if user.mfa_totp_secret is None:
        raise Conflict("Start with POST /users/me/mfa/totp.", code="user.mfa_not_started")
    if not await _totp_ok(runtime, user.id, user.mfa_totp_secret, code):
        raise _wrong_code()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, principal.id)
        if fresh is None:
            raise NotFound("No such user.", code="user.not_found")
        fresh.mfa_enabled_at = utcnow()
        user_changed(uow, runtime, fresh.id)
        await dao.replace_recovery_codes(
            uow.session, fresh.id, [recovery_hash(value) for value in codes]
        )
    log.info("mfa_enabled", user_id=principal.id)
    return RecoveryCodesOut(recovery_codes=codes)


async def disable_mfa(*, runtime: Runtime, principal: Principal, password: str, code: str) -> None:
    """Turn MFA off: needs the password and a current TOTP (or recovery) code."""
    await hit(runtime, limits_of(runtime).mfa_disable, str(principal.id))
    async with runtime.db.read() as session:
        user = await dao.get_user(session, principal.id)
    if user is None:
        raise NotFound("No such user.", code="user.not_found")
    if user.mfa_enabled_at is None:
        raise Conflict("Two-factor sign-in is not on.", code="user.mfa_not_enabled")
    if not await runtime.passwords.verify(user.password_hash, password):
        raise ValidationFailed(
            "The password is wrong.",
            code="user.wrong_password",
            errors=[{"loc": ["body", "password"], "msg": "wrong password", "type": "wrong"}],
        )
    if not await _second_factor_ok(runtime, user, code_method(code), code):
        raise _wrong_code()
    async with runtime.db.transaction() as uow:
        fresh = await dao.get_user(uow.session, principal.id)
        if fresh is None:
            raise NotFound("No such user.", code="user.not_found")
        fresh.mfa_enabled_at = None
        fresh.mfa_totp_secret = None
        user_changed(uow, runtime, fresh.id)
        await dao.replace_recovery_codes(uow.session, fresh.id, [])
    log.info("mfa_disabled", user_id=principal.id)
