"""One-time SMS codes: asking for one (`/auth/sms-code`), issuing it when the message is sent,
and checking it (SMS sign-in, phone binding, password reset).

A request does the same constant work for every valid number (rate limits + one
`user.sms_code_requested` event) and answers 202, so it does not tell whether the number has
an account. The consumer that delivers SMS (notify) calls `issue_sms_code`, which applies the
purpose's rules (sign-in codes only for a verified phone, registration codes only for a free
one) and returns the code, or None when nothing must be sent. Codes live in Redis as keyed
hashes (`tessera.lib.otp`), single use, `user.code_ttl_seconds`, `user.code_max_attempts`.
"""

from __future__ import annotations

from pydantic import SecretStr

from tessera.blocks.user import dao
from tessera.blocks.user.events import SMS_CODE_REQUESTED, SmsCodeRequested
from tessera.blocks.user.model.dto import IssuedCode
from tessera.blocks.user.service.limits import hit, limits_of
from tessera.lib.errors import Unauthorized, ValidationFailed
from tessera.lib.otp import one_time_codes
from tessera.lib.runtime import Runtime
from tessera.lib.sms import normalize_phone
from tessera.lib.tasks import publish

# Purposes that prove an existing account's verified phone: nothing is sent to other numbers.
FOR_VERIFIED_PHONES = frozenset({"login", "reset_password", "mfa"})


def parse_phone(runtime: Runtime, raw: str) -> str:
    """E.164, reading numbers without a country code in `sms.default_region`; 422 otherwise."""
    try:
        return normalize_phone(raw, default_region=runtime.settings.sms.default_region)
    except ValueError as exc:
        raise ValidationFailed(
            "Not a valid phone number.",
            code="notify.invalid_phone",
            errors=[{"loc": ["body", "phone"], "msg": str(exc), "type": "value_error"}],
        ) from exc


async def hit_sms_limits(runtime: Runtime, *, phone: str, ip: str | None) -> None:
    """Count one SMS code send: per IP, one per interval and a daily cap per phone (429)."""
    limits = limits_of(runtime)
    await hit(runtime, limits.sms_ip, ip or "unknown")
    await hit(runtime, limits.sms_phone_interval, phone)
    await hit(runtime, limits.sms_phone_day, phone)


async def find_user_id_by_verified_phone(*, runtime: Runtime, phone: str) -> int | None:
    """The active user who proved owning `phone` (E.164), if any."""
    async with runtime.db.read() as session:
        user = await dao.find_user_by_verified_phone(session, phone)
        return user.id if user is not None and user.is_active else None


async def request_sms_code(
    *, runtime: Runtime, raw_phone: str, purpose: str, ip: str | None
) -> None:
    """202 for every valid number: whether a code is really sent is decided by the consumer."""
    phone = parse_phone(runtime, raw_phone)
    await hit_sms_limits(runtime, phone=phone, ip=ip)
    async with runtime.db.transaction() as uow:
        await publish(
            uow, runtime.events, SMS_CODE_REQUESTED, SmsCodeRequested(phone=phone, purpose=purpose)
        )


async def issue_sms_code(*, runtime: Runtime, phone: str, purpose: str) -> IssuedCode | None:
    """A fresh code for (purpose, phone), replacing any earlier one, for the consumer to send;
    None when the purpose's rules say nothing is sent to this number."""
    owner = await find_user_id_by_verified_phone(runtime=runtime, phone=phone)
    if purpose in FOR_VERIFIED_PHONES and owner is None:
        return None  # no account to sign in to: the caller saw 202 all the same
    if purpose == "register" and owner is not None:
        return None
    locale = None
    if owner is not None:
        async with runtime.db.read() as session:
            user = await dao.get_user(session, owner)
            locale = user.locale if user is not None else None
    ttl = runtime.settings.user.code_ttl_seconds
    code = await one_time_codes(runtime).issue_code(purpose, phone, ttl_seconds=ttl)
    return IssuedCode(
        phone=phone, code=SecretStr(code), ttl_seconds=ttl, user_id=owner, locale=locale
    )


async def check_code(
    runtime: Runtime, *, purpose: str, phone: str, code: str, ip: str | None
) -> None:
    """Spend the code if it matches; 401 `auth.invalid_code` otherwise."""
    # Per IP: many numbers times a few tries each must not add up to a brute force.
    await hit(runtime, limits_of(runtime).code_check_ip, ip or "unknown")
    check = await one_time_codes(runtime).check_code(
        purpose, phone, code, max_attempts=runtime.settings.user.code_max_attempts
    )
    if not check.ok:
        raise Unauthorized("The code is wrong or expired.", code="auth.invalid_code")
