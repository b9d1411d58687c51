"""Order numbers, free of I/O: the UTC time of placing to the second (`yyyymmddHHMMSS`) and
eight random digits, e.g. `2026112615000012345678`. They sort by time, fit `order_no`
(String(32), unique) and do not reveal how many orders a shop takes, unlike the row id.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Final

RANDOM_DIGITS: Final = 8
ORDER_NO_PATTERN: Final = re.compile(rf"^\d{{{14 + RANDOM_DIGITS}}}$")


def format_order_no(placed_at: datetime, serial: int) -> str:
    """The order number for `placed_at` (UTC) and a serial of up to `RANDOM_DIGITS` digits."""
    if not 0 <= serial < 10**RANDOM_DIGITS:
        raise ValueError(f"serial must have at most {RANDOM_DIGITS} digits")
    return placed_at.strftime("%Y%m%d%H%M%S") + f"{serial:0{RANDOM_DIGITS}d}"


def new_order_no(placed_at: datetime) -> str:
    # A collision (same second, same 8 digits) hits the unique index and fails that order.
    return format_order_no(placed_at, secrets.randbelow(10**RANDOM_DIGITS))
