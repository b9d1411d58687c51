"""Phone numbers: parsed and validated with `phonenumbers`, stored and compared in E.164."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str, *, default_region: str = "CN") -> str:
    """`+86 138-0013-8000`, `13800138000` (with region CN) → `+8613800138000`; else ValueError."""
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """`+8613800138000` → `+86138****8000`: enough to recognise, not to dial."""
    if len(phone) <= 7:
        return phone[:2] + "*" * max(0, len(phone) - 2)
    return phone[:-8] + "****" + phone[-4:]


def national_number(phone: str) -> tuple[int, str]:
    """(country code, national significant number) of an E.164 number."""
    parsed = phonenumbers.parse(phone, None)
    return int(parsed.country_code or 0), phonenumbers.national_significant_number(parsed)
