"""The rules of payment attempts and refunds, free of I/O: trade and refund numbers, which
attempt statuses are open or need closing, what is left to refund, and how a provider's
amount compares with Tessera's. Unit-tested without a database or a provider.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from tessera.blocks.order.integration.base import to_fen

# Attempt statuses (see PaymentAttemptDO).
CREATING: Final = "creating"
STARTED: Final = "started"
PAID: Final = "paid"
CLOSED: Final = "closed"
FAILED: Final = "failed"
ABANDONED: Final = "abandoned"
SUPERSEDED: Final = "superseded"
# Trades that may still be paid at the provider.
OPEN_ATTEMPTS: Final = frozenset({CREATING, STARTED})
# Trades reconciliation looks at: open ones (a callback may have been missed) and orphans
# whose trade may exist at the provider and must be closed.
RECONCILED_ATTEMPTS: Final = (CREATING, STARTED, ABANDONED, SUPERSEDED)

# Refund statuses (see PaymentRefundDO).
REQUESTED: Final = "requested"
PENDING: Final = "pending"
SUCCEEDED: Final = "succeeded"
REFUND_FAILED: Final = "failed"
# Refunds that count against what is left to refund.
ACTIVE_REFUNDS: Final = frozenset({REQUESTED, PENDING, SUCCEEDED})
OPEN_REFUNDS: Final = (REQUESTED, PENDING)

# Orders whose payment may be refunded (a cancelled or refunded order has nothing left).
REFUNDABLE_ORDER_STATUSES: Final = frozenset({"paid", "shipped", "completed"})

MAX_ATTEMPTS: Final = 99


def trade_no(order_no: str, attempt: int) -> str:
    """Tessera's number for the n-th provider trade of an order: `<order_no>P01`. Fits
    WeChat Pay (6-32 of [0-9A-Za-z_-|*]) and Alipay (up to 64)."""
    if not 1 <= attempt <= MAX_ATTEMPTS:
        raise ValueError(f"attempt {attempt} out of range")
    return f"{order_no}P{attempt:02d}"


def refund_no(order_no: str, refund: int) -> str:
    """Tessera's number for the n-th refund of an order: `<order_no>R01`."""
    if not 1 <= refund <= MAX_ATTEMPTS:
        raise ValueError(f"refund {refund} out of range")
    return f"{order_no}R{refund:02d}"


def refundable(paid: Decimal, refunds: Iterable[tuple[str, Decimal]]) -> Decimal:
    """What may still be refunded: paid minus every refund not failed."""
    taken = sum((amount for status, amount in refunds if status in ACTIVE_REFUNDS), Decimal("0.00"))
    return max(paid - taken, Decimal("0.00"))


def amount_matches(
    *, expected: Decimal, currency: str, provider_fen: int | None, provider_currency: str | None
) -> bool:
    """The provider reported exactly the amount and currency of the trade."""
    return (
        provider_fen is not None
        and provider_fen == to_fen(expected)
        and (provider_currency or "") == currency
    )
