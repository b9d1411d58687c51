"""Pure logic of the user block, free of I/O so it is unit-tested in milliseconds: the
password policy, TOTP time-step maths, recovery code format and which second factors a
sign-in offers.

Password policy: length, not the username, not a common password. The shipped list
(`data/common-passwords.txt`) is matched case-insensitively, and also after stripping
trailing digits and symbols, so `Password2024!` is refused like `password`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import lru_cache
from pathlib import Path

import pyotp

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Reasons `password` is refused; empty when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if username and lowered == username.lower():
        problems.append("must not be the username")
    stripped = _TRAILING_NOISE.sub("", lowered)
    listed = common_passwords()
    if lowered in listed or (len(stripped) >= 4 and stripped in listed):
        problems.append("is too common")
    if len(set(password)) == 1:
        problems.append("must not repeat a single character")
    return problems


# --- second factors -------------------------------------------------------------------------

TOTP_STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: recovery codes are read off paper and typed by hand.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def totp_counter(secret: str, code: str, now: float) -> int | None:
    """The time step whose code is `code` (±1 step of clock drift), or None."""
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = int(now // TOTP_STEP_SECONDS)
    for counter in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code.strip()):
            return counter
    return None


def new_recovery_code() -> str:
    """`abcde-fghjk`: 10 characters of `RECOVERY_ALPHABET` (about 49 bits), in two groups."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_hash(code: str) -> str:
    """What is stored of a recovery code: case, spaces and the dash do not matter."""
    normalized = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(("recovery:" + normalized).encode()).hexdigest()


def code_method(code: str) -> str:
    """`recovery_code` or `totp`, told apart by their shape (for turning MFA off)."""
    return "recovery_code" if "-" in code or len(code.strip()) > 6 else "totp"


def mfa_methods(*, mfa_enabled: bool, phone_verified: bool, first_factor: str) -> list[str]:
    """Second factors a sign-in may use now; empty when no second factor is required."""
    if not mfa_enabled:
        return []
    methods = ["totp", "recovery_code"]
    # SMS cannot be both factors of one sign-in.
    if phone_verified and first_factor != "sms":
        methods.insert(1, "sms")
    return methods
