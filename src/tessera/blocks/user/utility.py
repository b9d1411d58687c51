"""Password policy for the user block: length, not the username, not a common password.

The shipped list (`data/common-passwords.txt`) is matched case-insensitively, and also after
stripping trailing digits and symbols, so `Password2024!` is refused like `password`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

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
