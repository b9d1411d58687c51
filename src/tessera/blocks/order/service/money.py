"""Money arithmetic of the order block, free of I/O. Amounts are `Decimal` with two places
(DECIMAL(12,2) in the database, `"12.50"` on the wire); a line total rounds half up once, and
an order total is the exact sum of its rounded lines, so the lines always add up to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")
# The largest amount a DECIMAL(12, 2) column holds: a line or order total beyond it is
# refused up front (MariaDB would fail the insert, SQLite would store it silently).
MAX_AMOUNT: Final = Decimal("9999999999.99")


def quantize(amount: Decimal) -> Decimal:
    """`amount` to whole cents, halves rounded up (away from zero)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


def line_total(unit_price: Decimal, quantity: int) -> Decimal:
    return quantize(unit_price * quantity)


def order_total(line_totals: Iterable[Decimal]) -> Decimal:
    return quantize(sum(line_totals, ZERO))


def storable(amount: Decimal) -> bool:
    """True if `amount` fits the money columns."""
    return ZERO <= amount <= MAX_AMOUNT


def money_string(amount: Decimal) -> str:
    """The wire form: always two decimals (`Decimal("12.5")` -> `"12.50"`)."""
    return f"{quantize(amount):f}"
